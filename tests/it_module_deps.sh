#!/bin/bash
# it_module_deps.sh - pam_zonemfa.so stays lean (issue 11): every login
# process (login, su, sshd) maps the module and everything it needs, and
# the module decides nothing, so it links libpam and libc only.  libcrypto
# alone costs each login process ~0.7 ms at start.  TAP.
mod=${top_builddir:-.}/pam_module/.libs/pam_zonemfa.so
n=0 fail=0
echo "1..6"
ok() {	# DESCRIPTION RC [DIAG]
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
		fail=1
	fi
}
if [ ! -f "$mod" ] || ! command -v readelf >/dev/null; then
	echo "Bail out! $mod not built or readelf (binutils) missing"
	exit 1
fi
needed=$(readelf -d "$mod" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
# Not vacuous: the module does need libpam, and readelf shows it.
echo "$needed" | grep -qx 'libpam\.so\.[0-9]*'
ok "readelf lists the module's NEEDED entries (libpam among them)" $? "$needed"
# The sanitizer build adds its runtimes (libasan, libubsan): not ours.
extra=$(echo "$needed" | grep -vx -e 'libpam\.so\.[0-9]*' -e 'libc\.so\.6' \
    -e 'libasan\.so\.[0-9]*' -e 'libubsan\.so\.[0-9]*')
[ -z "$extra" ]
ok "R14: pam_zonemfa.so needs libpam and libc only (NEEDED)" $? "also: $extra"
! echo "$needed" | grep -q -e libcrypto -e libssl
ok "pam_zonemfa.so does not link libcrypto or libssl" $? "$needed"
deep=$(ldd "$mod" 2>&1)
! echo "$deep" | grep -q -e libcrypto -e libssl -e libsqlite -e libfido2 -e libpcsclite
ok "no heavy library reaches the module indirectly (ldd)" $? "$deep"
und=$(nm -D --undefined-only "$mod" | grep -E ' (OPENSSL_|EVP_|CRYPTO_|RAND_|SHA[0-9]|HMAC)')
[ -z "$und" ]
ok "the module calls no OpenSSL function" $? "$und"
# A common/ file missing from libzmlean.la (common/local.mk) leaves its
# functions undefined: the link succeeds, dlopen() in the login fails.
und=$(nm -D --undefined-only "$mod" | grep -E ' zm_')
[ -z "$und" ]
ok "no zm_ function is left undefined in the module" $? "$und"
exit $fail
