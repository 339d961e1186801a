#!/bin/bash
# it_package.sh - the Debian packages, for real: `dpkg-buildpackage -us
# -uc -b` from the tree, lintian, then in a Debian minbase root booted
# with systemd-nspawn (systemd as PID 1, dbus, logind): apt-get install of
# the two .debs, the module enabled with pam-auth-update, real logins
# through /bin/login (password + TOTP) in a logind session, revocation,
# the audit chain verified by a member of admin_group without root, a
# logrotate rotation that keeps the chain, reinstallation of the same
# version and an upgrade to a bumped one (registry, key, configuration,
# chain and the enabled PAM profiles survive), removal
# (the PAM stacks are clean again) and purge (registry and audit log
# stay as evidence, the key goes).
#
# Needs root, systemd-nspawn (systemd-container), debootstrap, nsenter
# (util-linux), dpkg-dev and debhelper, and network access to a Debian
# mirror the first time (the root's packages).  Inside the booted
# container apt installs the .debs without network: their dependencies
# are put into the cached root beforehand.
#
# Cache (ZM_NSPAWN_CACHE, default $top_builddir/_nspawn), under pkg/:
#   src/, *.deb  the packages, rebuilt when a source file is newer than
#                them (ZM_DEBS=DIR uses the .debs in DIR instead)
#   base/        minbase root + the packages below (ZM_NSPAWN_ROOT=DIR
#                copies an existing minbase root instead of debootstrap)
#   run/         a fresh copy of base/ for each run
# Environment: ZM_NSPAWN=skip skips the test, ZM_NSPAWN=prepare only
# builds the packages and base/; ZM_KEEP=1 keeps run/; on CI (CI=true) a
# missing tool fails the test instead of skipping it.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/nspawn.sh
. "$(dirname "$0")/nspawn.sh"

T0=$(date +%s)
tdiag() { diag "[$(($(date +%s) - T0)) s] $*"; }
# cannot_run WHY: skip on a developer's machine, fail on CI.
cannot_run() {
	[[ ${CI:-} == true ]] && bail_out "$* (CI: not skipped)"
	skip_all "$*"
}

[[ ${ZM_NSPAWN:-} == skip ]] && skip_all_env "ZM_NSPAWN=skip"
[[ $(id -u) -eq 0 ]] ||
    cannot_run "needs root (debootstrap, systemd-nspawn boot a container)"
for c in systemd-nspawn:systemd-container debootstrap:debootstrap \
    nsenter:util-linux flock:util-linux dpkg-buildpackage:dpkg-dev \
    dh:debhelper lintian:lintian; do
	command -v "${c%%:*}" >/dev/null ||
	    cannot_run "${c%%:*} not found (package ${c#*:})"
done
[[ -d /sys/fs/cgroup ]] || cannot_run "no /sys/fs/cgroup: systemd cannot boot"
# shellcheck disable=SC1091
os_id=$(. /etc/os-release && echo "${ID:-}")
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ $os_id == debian && -n $suite ]] ||
    cannot_run "the container root is the host's Debian release: host is '$os_id'"
SRC=$(cd "$top_srcdir" && pwd)
[[ -f $SRC/debian/control ]] ||
    skip_all "no debian/ in $SRC (a dist tarball does not ship it)"

NS=${ZM_NSPAWN_CACHE:-$top_builddir/_nspawn}/pkg
mkdir -p "$NS" || bail_out "cannot create $NS"
NS=$(cd "$NS" && pwd)
BASE=$NS/base
RUN=$NS/run
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)

MIRROR=${ZM_NSPAWN_MIRROR:-$(host_mirror)}

exec 9>"$NS/lock"
flock -w 1800 9 || bail_out "$NS/lock held for 30 min"

# ------------------------------------------------------------ the packages
# The source files: git's list in a work tree, else everything but builds.
src_files() {
	if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$SRC" ls-files -co --exclude-standard | grep -v '^_build/'
	else
		(cd "$SRC" && find . -path ./_build -prune -o -path ./.git -prune \
		    -o -type f -print | sed 's|^\./||')
	fi
}
if [[ -n ${ZM_DEBS:-} ]]; then
	DEBDIR=$(cd "$ZM_DEBS" && pwd)
else
	DEBDIR=$NS
	stale=yes
	if [[ -e $NS/.debs-built ]]; then
		stale=no
		while IFS= read -r f; do
			if [[ $SRC/$f -nt $NS/.debs-built ]]; then
				stale=yes
				break
			fi
		done < <(src_files)
	fi
	if [[ $stale == yes ]]; then
		tdiag "dpkg-buildpackage -us -uc -b (a copy of the tree in $NS/src)"
		rm -rf "$NS/src" "$NS"/*.deb "$NS"/*.changes "$NS"/*.buildinfo \
		    "$NS/.debs-built"
		mkdir -p "$NS/src"
		# Stamped at the copy: a file changed during the build is newer.
		touch "$NS/.debs-copied"
		src_files | (cd "$SRC" && tar -cf - -T -) | tar -xf - -C "$NS/src" ||
		    bail_out "cannot copy the tree to $NS/src"
		if ! (cd "$NS/src" && dpkg-checkbuilddeps) >"$NS/build.log" 2>&1; then
			cat "$NS/build.log" | sed 's/^/#   /'
			cannot_run "build dependencies of debian/control missing"
		fi
		if ! (cd "$NS/src" && dpkg-buildpackage -us -uc -b) \
		    >>"$NS/build.log" 2>&1; then
			tail -n 30 "$NS/build.log" | sed 's/^/#   /'
			bail_out "dpkg-buildpackage failed ($NS/build.log)"
		fi
		mv "$NS/.debs-copied" "$NS/.debs-built"
		tdiag "packages built"
	fi
fi
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
DEB_D=$DEBDIR/zonemfa_${VERSION}_$ARCH.deb
DEB_P=$DEBDIR/libpam-zonemfa_${VERSION}_$ARCH.deb
[[ -f $DEB_D && -f $DEB_P ]] || bail_out "no $DEB_D or $DEB_P"

# The root gets the packages' dependencies and recommendations (as apt
# would install them), and what the test drives logins with.
deb_deps() {
	dpkg-deb -f "$1" Depends Recommends | sed 's/^[A-Za-z]*: //' |
	    tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' |
	    grep -v -e '^$' -e '^zonemfa$' -e '^libpam-zonemfa$'
}
PKGS_BASE="systemd systemd-sysv dbus libpam-systemd libpam-modules login
passwd util-linux expect oathtool sqlite3 logrotate"
# shellcheck disable=SC2086,SC2046
PKGS=$(echo $PKGS_BASE $(deb_deps "$DEB_D") $(deb_deps "$DEB_P") |
    tr ' ' '\n' | sort -u | tr '\n' ' ')
PKGS=${PKGS% }

if [[ ! -e $BASE/.zm-base ]]; then
	rm -rf "$BASE.tmp"
	if [[ -n ${ZM_NSPAWN_ROOT:-} ]]; then
		tdiag "copying $ZM_NSPAWN_ROOT"
		cp -a --reflink=auto "$ZM_NSPAWN_ROOT" "$BASE.tmp" ||
		    bail_out "cannot copy $ZM_NSPAWN_ROOT"
	else
		tdiag "debootstrap --variant=minbase $suite from $MIRROR"
		if ! debootstrap --variant=minbase "$suite" "$BASE.tmp" "$MIRROR" \
		    >"$NS/debootstrap.log" 2>&1; then
			tail -n 20 "$NS/debootstrap.log" | sed 's/^/#   /'
			bail_out "debootstrap failed ($NS/debootstrap.log)"
		fi
	fi
	if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null ||
	    [[ -s /etc/apt/sources.list ]]; then
		rm -f "$BASE.tmp/etc/apt/sources.list"
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		    /etc/apt/sources.list.d/*.sources; do
			[[ -s $f ]] || continue
			grep -Eq 'debian' "$f" || continue
			cp "$f" "$BASE.tmp$f"
		done
	fi
	touch "$BASE.tmp/.zm-base"
	mv "$BASE.tmp" "$BASE"
fi
if [[ $(cat "$BASE/.zm-packages" 2>/dev/null) != "$PKGS" ]]; then
	tdiag "apt-get install in the root: $PKGS"
	# shellcheck disable=SC2086
	if ! { nspawn_run "$BASE" apt-get update -q &&
	    nspawn_run "$BASE" apt-get install -y -q --no-install-recommends \
	    $PKGS && nspawn_run "$BASE" apt-get clean; } >"$NS/apt.log" 2>&1; then
		tail -n 20 "$NS/apt.log" | sed 's/^/#   /'
		bail_out "apt-get install in the root failed ($NS/apt.log)"
	fi
	echo "$PKGS" >"$BASE/.zm-packages"
fi
flock -u 9
if [[ ${ZM_NSPAWN:-} == prepare ]]; then
	tdiag "prepared $DEB_D, $DEB_P and $BASE"
	exit 0
fi

# ------------------------------------------------------------ lintian
run lintian -I --pedantic "$DEBDIR/zonemfa_${VERSION}_$ARCH.changes"
tags=$(grep -E '^[EW]: ' <<<"$OUT")
CMD="lintian --pedantic $DEBDIR/zonemfa_${VERSION}_$ARCH.changes"
if [[ -z $tags ]]; then
	ok "lintian: no error or warning (zonemfa, libpam-zonemfa)"
	grep -E '^[IP]: ' <<<"$OUT" | sed 's/^/# lintian /'
else
	not_ok "lintian: no error or warning"
fi

# ------------------------------------------------------------ run root
rm -rf "$RUN"
cp -a --reflink=auto "$BASE" "$RUN" || bail_out "cannot copy $BASE"
mkdir -p "$RUN/root/debs"
cp "$DEB_D" "$DEB_P" "$RUN/root/debs/"
DEBS_CT="/root/debs/${DEB_D##*/} /root/debs/${DEB_P##*/}"

# The login script (as in it_systemd.sh): expect drives /bin/login.
#   zm-login.exp FILE, FILE holding USER PASSWORD SECRET HOLD(0|1)
# Prints ZM-IN:<XDG_SESSION_ID>:<pid>; HOLD 1 keeps the session open
# until it is ended (ZM-EOF).  Exit status: 0 ok, 2-9 the failed step.
cat >"$RUN/root/zm-login.exp" <<'EOF'
set timeout 30
set f [open [lindex $argv 0]]
lassign [split [string trimright [read $f] "\n"] "\n"] user pw secret hold
close $f
log_user 1
proc fail {n what} { puts "\nZM-FAIL $n: $what"; exit $n }
spawn /bin/login $user
expect {
	-re {[Pp]assword: $} {}
	timeout { fail 2 "no password prompt" }
	eof { fail 2 "login ended before the password prompt" }
}
send "$pw\r"
expect {
	"One-time code: " {}
	-re {[Ll]ogin incorrect} { fail 3 "login incorrect after the password" }
	timeout { fail 3 "no one-time code prompt" }
	eof { fail 3 "login ended before the code prompt" }
}
send "[exec oathtool --totp -b $secret]\r"
expect {
	-re {[$#] $} {}
	-re {[Ll]ogin incorrect} { fail 6 "login incorrect after the code" }
	timeout { fail 6 "no shell prompt" }
	eof { fail 6 "login ended without a shell" }
}
send "echo ZM-IN:\$XDG_SESSION_ID:\$\$\r"
expect {
	-re {ZM-IN:([0-9]*):([0-9]+)} {}
	timeout { fail 6 "no shell" }
}
if {$hold} {
	set timeout 120
	expect {
		eof { puts "\nZM-EOF"; exit 0 }
		timeout { fail 8 "the session was not ended" }
	}
}
send "exit\r"
expect {
	eof { puts "\nZM-EOF"; exit 0 }
	timeout { fail 9 "logout" }
}
EOF

# ------------------------------------------------------------ boot
ct_traps
tdiag "booting $RUN"
ct_boot
state=$CT_STATE
if [[ $state == running || $state == degraded ]]; then
	ok "the container boots with systemd as PID 1 ($state)"
else
	CMD="systemctl is-system-running --wait"
	RC=$state
	OUT=$(tail -n 30 "$NS/console.log")
	not_ok "the container boots with systemd as PID 1"
	bail_out "container did not boot"
fi

# ------------------------------------------------------------ install
tdiag "apt-get install the .debs"
# shellcheck disable=SC2086
run in_ct apt-get install -y -q $DEBS_CT
expect_rc 0 "apt-get install of the two .debs in the booted container (private network: dependencies already there)"

run in_ct getent group zonemfa-helpdesk zonemfa-admin
if [[ $RC -eq 0 && $(wc -l <<<"$OUT") -eq 2 ]] &&
    [[ $(in_ct getent group zonemfa-admin | cut -d: -f3) -lt 1000 ]]; then
	ok "postinst: system groups zonemfa-helpdesk and zonemfa-admin"
else
	not_ok "postinst: system groups zonemfa-helpdesk and zonemfa-admin"
fi
run in_ct stat -c '%a %U:%G %s %n' /etc/zonemfa /etc/zonemfa/registry.key \
    /etc/zonemfa/zonemfa.conf /var/lib/zonemfa /var/log/zonemfa \
    /var/log/zonemfa/audit.log
if [[ $RC -eq 0 ]] && grep -qx '755 root:root [0-9]* /etc/zonemfa' <<<"$OUT" &&
    grep -qx '600 root:root 32 /etc/zonemfa/registry.key' <<<"$OUT" &&
    grep -qx '644 root:root [0-9]* /etc/zonemfa/zonemfa.conf' <<<"$OUT" &&
    grep -qx '700 root:root [0-9]* /var/lib/zonemfa' <<<"$OUT" &&
    grep -qx '755 root:root [0-9]* /var/log/zonemfa' <<<"$OUT" &&
    grep -qx '640 root:zonemfa-admin [0-9]* /var/log/zonemfa/audit.log' <<<"$OUT"; then
	ok "postinst: key 0600 (32 bytes), audit log 0640 root:zonemfa-admin, directories 0755/0700/0755"
else
	not_ok "postinst: key 0600, audit log 0640 root:zonemfa-admin, directories"
fi
run in_ct dpkg -L libpam-zonemfa
expect_match "^/usr/lib/$MA/security/pam_zonemfa\\.so\$" \
    "the PAM module is in the multiarch security directory /usr/lib/$MA/security"
run in_ct systemctl is-enabled zonemfa-tokend.service zonemfa-tokend.socket
if [[ $RC -eq 0 && $(grep -cx enabled <<<"$OUT") -eq 2 ]]; then
	ok "zonemfa-tokend.service and .socket enabled by the package"
else
	not_ok "zonemfa-tokend.service and .socket enabled by the package"
fi
run in_ct systemctl is-active zonemfa-tokend.service
expect_rc 0 "zonemfa-tokend started by the package (shipped conf: zone lgwan, pcscd installed)"
[[ $RC -eq 0 ]] || ct_journal -u zonemfa-tokend -n 20
KEYSUM=$(in_ct sha256sum /etc/zonemfa/registry.key | cut -c1-64)

# The administrator's step: no card reader or FIDO2 key on this terminal.
in_ct sed -i -e 's/^\(pcsc *=\).*/\1 no/' -e 's/^\(fido *=\).*/\1 no/' \
    /etc/zonemfa/zonemfa.conf
run in_ct systemctl restart zonemfa-tokend.service
expect_rc 0 "systemctl restart zonemfa-tokend after the administrator's edit"

ALICE_PW=Alice-pw-7391
{
	in_ct useradd -m -s /bin/bash alice &&
	    in_ct useradd -m -s /bin/bash -G zonemfa-helpdesk hd1 &&
	    in_ct useradd -m -s /bin/bash -G zonemfa-admin sec1 &&
	    echo "alice:$ALICE_PW" | in_ct chpasswd
} >"$NS/users.log" 2>&1 || bail_out "cannot create the users: $(cat "$NS/users.log")"

# ------------------------------------------------------------ pam-auth-update
run in_ct pam-auth-update --enable zonemfa zonemfa-lockout
expect_rc 0 "pam-auth-update --enable zonemfa zonemfa-lockout"
auth=$(in_ct grep -E '^auth' /etc/pam.d/common-auth)
sess=$(in_ct grep -E '^session' /etc/pam.d/common-session)
CMD="cat /etc/pam.d/common-auth /etc/pam.d/common-session"
OUT="$auth
$sess"
RC=""
# auth: pam_unix, then authfail (reached only when the password was
# wrong), pam_deny, pam_permit, then the factors (required).
if awk '/pam_unix\.so/ { u = NR } /pam_zonemfa\.so authfail/ { f = NR }
    /pam_deny\.so/ { d = NR } /required[ \t]+pam_zonemfa\.so/ { r = NR }
    END { exit !(u && u < f && f < d && d < r) }' <<<"$auth" &&
    grep -Eq '^auth[[:space:]]+\[default=die\][[:space:]]+pam_zonemfa\.so authfail' <<<"$auth"; then
	ok "common-auth: pam_unix, [default=die] pam_zonemfa authfail, pam_deny, required pam_zonemfa"
else
	not_ok "common-auth: pam_unix, [default=die] pam_zonemfa authfail, pam_deny, required pam_zonemfa"
fi
if awk '/pam_systemd\.so/ { s = NR } /pam_zonemfa\.so/ { z = NR }
    END { exit !(s && s < z) }' <<<"$sess"; then
	ok "common-session: pam_zonemfa after pam_systemd (the logind session id is known)"
else
	not_ok "common-session: pam_zonemfa after pam_systemd"
fi
run in_ct grep -E '^account[[:space:]]+required[[:space:]]+pam_zonemfa\.so' \
    /etc/pam.d/common-account
expect_rc 0 "common-account: required pam_zonemfa.so"

# ------------------------------------------------------------ login
audit_count() {
	in_ct grep -E "$1" /var/log/zonemfa/audit.log | grep -Ec "$2"
}

if enroll_ct alice; then
	ok "hd1 (zonemfa-helpdesk) enrols a TOTP token for alice"
else
	not_ok "hd1 (zonemfa-helpdesk) enrols a TOTP token for alice"
	ct_journal -u zonemfa-tokend -n 20
fi

tdiag "wrong password"
n0=$(audit_count '"user": ?"alice"' 'wrong password')
L0=$NS/login0.out
login_ct "$L0" alice "not-$ALICE_PW" "${SECRET:-none}" 0
wait_file "$L0" 'ZM-FAIL|ZM-EOF' 30
n1=$(audit_count '"user": ?"alice"' 'wrong password')
CMD="expect zm-login.exp alice WRONG-PASSWORD"
OUT=$(tr -d '\r' <"$L0" | tail -n 5)
RC="audit 'wrong password' records: $n0 -> $n1"
if grep -q 'ZM-FAIL 3' "$L0" && [[ $n1 -eq $((n0 + 1)) ]]; then
	ok "a wrong password is refused before the code and counted (authfail: one audit record)"
else
	not_ok "a wrong password is refused before the code and counted"
fi

tdiag "login alice (password + TOTP)"
L1=$NS/login1.out
login_ct "$L1" alice "$ALICE_PW" "${SECRET:-none}" 1
if wait_file "$L1" 'ZM-IN:[0-9]+' 60; then
	ok "alice logs in through /bin/login with the packaged module: password, one-time code, shell"
else
	CMD="expect zm-login.exp alice (password, code)"
	RC=""
	OUT=$(tr -d '\r' <"$L1" | tail -n 10)
	not_ok "alice logs in through /bin/login with the packaged module"
	ct_journal -n 30
fi
SID=$(sed -n 's/.*ZM-IN:\([0-9][0-9]*\):[0-9][0-9]*.*/\1/p' "$L1" | tr -d '\r' | head -n 1)
run in_ct loginctl show-session "${SID:-none}" -p Name -p Service -p Type
if [[ -n $SID ]] && grep -qx 'Name=alice' <<<"$OUT" &&
    grep -qx 'Service=login' <<<"$OUT" && grep -qx 'Type=tty' <<<"$OUT"; then
	ok "logind session $SID: alice, service login, type tty"
else
	not_ok "logind session of alice ('$SID')"
fi
run in_ct sqlite3 /var/lib/zonemfa/registry.db \
    "SELECT logind_id FROM sessions WHERE user = 'alice' AND closed = 0;"
if [[ $RC -eq 0 && -n $SID && $OUT == "$SID" ]]; then
	ok "the registry records the session with logind id $SID"
else
	not_ok "the registry records the session with its logind id ('$SID')"
fi

# ------------------------------------------------------------ revoke
tdiag "revoke"
OLD_SECRET=$SECRET
run as_ct hd1 zonemfa-revoke --user alice --all --reason lost
if [[ $RC -eq 0 ]] && grep -qx 'sessions ended: 1' <<<"$OUT"; then
	ok "zonemfa-revoke --user alice --all (as hd1): sessions ended: 1"
else
	not_ok "zonemfa-revoke --user alice --all (as hd1): sessions ended: 1"
fi
if wait_file "$L1" 'ZM-EOF|ZM-FAIL' 20 && grep -q 'ZM-EOF' "$L1"; then
	ok "alice's login session was ended"
else
	CMD="expect zm-login.exp"
	RC=""
	OUT=$(tr -d '\r' <"$L1" | tail -n 5)
	not_ok "alice's login session was ended"
fi
L2=$NS/login2.out
login_ct "$L2" alice "$ALICE_PW" "${OLD_SECRET:-none}" 0
wait_file "$L2" 'ZM-FAIL|ZM-EOF' 40
CMD="expect zm-login.exp alice (revoked token)"
RC=""
OUT=$(tr -d '\r' <"$L2" | tail -n 6)
if grep -q 'ZM-FAIL' "$L2" && ! grep -q 'ZM-IN:' "$L2"; then
	ok "the revoked token no longer logs alice in"
else
	not_ok "the revoked token no longer logs alice in"
fi

# ------------------------------------------------------------ audit
run as_ct sec1 zonemfa-audit verify
if [[ $RC -eq 0 ]] && grep -Eq '^audit log OK: [0-9]+ records' <<<"$OUT"; then
	ok "zonemfa-audit verify as sec1 (zonemfa-admin, not root): $OUT"
else
	not_ok "zonemfa-audit verify as sec1 (zonemfa-admin, not root)"
fi
run as_ct alice zonemfa-audit verify
expect_rc_not 0 "zonemfa-audit verify as alice (not in admin_group) is refused"

# ------------------------------------------------------------ logrotate
tdiag "logrotate"
run in_ct logrotate -f /etc/logrotate.d/zonemfa
expect_rc 0 "logrotate -f /etc/logrotate.d/zonemfa"
run in_ct stat -c '%a %U:%G %s' /var/log/zonemfa/audit.log
if [[ $RC -eq 0 ]] && in_ct test -s /var/log/zonemfa/audit.log.1 &&
    grep -Eq '^640 root:zonemfa-admin ' <<<"$OUT"; then
	ok "rotated to audit.log.1; the new audit.log is 0640 root:zonemfa-admin ($OUT)"
else
	not_ok "rotated to audit.log.1; the new audit.log is 0640 root:zonemfa-admin"
fi
enroll_ct alice || diag "enrolment after the rotation failed: $OUT"
for _ in $(seq 50); do
	in_ct test -s /var/log/zonemfa/audit.log && break
	sleep 0.1
done
run as_ct sec1 zonemfa-audit verify /var/log/zonemfa/audit.log.1 \
    /var/log/zonemfa/audit.log
if [[ $RC -eq 0 ]] && in_ct test -s /var/log/zonemfa/audit.log &&
    grep -Eq 'audit log OK' <<<"$OUT"; then
	ok "after SIGHUP the daemon writes the new file; audit.log.1 + audit.log verify as one chain"
else
	not_ok "audit.log.1 + audit.log verify as one chain after the rotation"
	ct_journal -u zonemfa-tokend -n 10
fi

# ------------------------------------------------------------ reinstall
tdiag "reinstall the same version"
NREC=$(in_ct wc -l </dev/null /var/log/zonemfa/audit.log 2>/dev/null | awk '{print $1}')
NTOK=$(in_ct sqlite3 /var/lib/zonemfa/registry.db "SELECT count(*) FROM tokens;")
# shellcheck disable=SC2086
run in_ct apt-get install -y -q --reinstall $DEBS_CT
expect_rc 0 "apt-get install --reinstall of the same version"
run in_ct systemctl is-active zonemfa-tokend.service
expect_rc 0 "zonemfa-tokend is running after the reinstall"
run in_ct sha256sum /etc/zonemfa/registry.key
if [[ -n $KEYSUM && ${OUT:0:64} == "$KEYSUM" ]]; then
	ok "the sealing key is the same after the reinstall"
else
	not_ok "the sealing key is the same after the reinstall"
fi
run in_ct grep -E '^(pcsc|fido) *=' /etc/zonemfa/zonemfa.conf
if [[ $(grep -c '= no' <<<"$OUT") -eq 2 ]]; then
	ok "the administrator's zonemfa.conf is kept (conffile)"
else
	not_ok "the administrator's zonemfa.conf is kept (conffile)"
fi
run in_ct sqlite3 /var/lib/zonemfa/registry.db "SELECT count(*) FROM tokens;"
if [[ $RC -eq 0 && -n $NTOK && $OUT == "$NTOK" && $NTOK -ge 2 ]]; then
	ok "the registry survives the reinstall ($NTOK tokens)"
else
	not_ok "the registry survives the reinstall (tokens before '$NTOK')"
fi
run as_ct sec1 zonemfa-audit verify /var/log/zonemfa/audit.log.1 \
    /var/log/zonemfa/audit.log
n=$(in_ct wc -l </dev/null /var/log/zonemfa/audit.log | awk '{print $1}')
if [[ $RC -eq 0 && $n -gt ${NREC:-0} ]]; then
	ok "the audit chain survives the reinstall and goes on ($NREC -> $n records in audit.log)"
else
	not_ok "the audit chain survives the reinstall and goes on ($NREC -> $n records)"
fi

# ------------------------------------------------------------ upgrade
# A bumped version of the same build, repacked with dpkg-deb (Version
# VERSION+zmtest1), installed over it as an upgrade from the archive
# would be: prerm upgrade, postinst configure with the old version.
tdiag "upgrade to $VERSION+zmtest1"
NEWV=$VERSION+zmtest1
bump_deb() {
	local d=$NS/bump rc
	rm -rf "$d"
	dpkg-deb -R "$1" "$d" || return 1
	sed -i -e "s/^Version: .*/Version: $NEWV/" \
	    -e "s/zonemfa (= $VERSION)/zonemfa (= $NEWV)/" "$d/DEBIAN/control"
	dpkg-deb -b --root-owner-group "$d" "$2" >/dev/null
	rc=$?
	rm -rf "$d"
	return $rc
}
if bump_deb "$DEB_D" "$RUN/root/debs/zonemfa_${NEWV}_$ARCH.deb" &&
    bump_deb "$DEB_P" "$RUN/root/debs/libpam-zonemfa_${NEWV}_$ARCH.deb"; then
	run in_ct apt-get install -y -q "/root/debs/zonemfa_${NEWV}_$ARCH.deb" \
	    "/root/debs/libpam-zonemfa_${NEWV}_$ARCH.deb"
else
	RC=repack
	OUT=""
fi
expect_rc 0 "apt-get install of $NEWV over $VERSION (upgrade)"
run in_ct dpkg-query -W -f '${Version} ${Status}\n' zonemfa libpam-zonemfa
if [[ $(grep -c "^$NEWV install ok installed\$" <<<"$OUT") -eq 2 ]]; then
	ok "both packages are at $NEWV"
else
	not_ok "both packages are at $NEWV"
fi
run in_ct systemctl is-active zonemfa-tokend.service
expect_rc 0 "zonemfa-tokend is running after the upgrade"
run in_ct grep -c pam_zonemfa /etc/pam.d/common-auth
if [[ $RC -eq 0 && $OUT -eq 2 ]]; then
	ok "the upgrade keeps the module enabled (pam-auth-update state)"
else
	not_ok "the upgrade keeps the module enabled (pam-auth-update state)"
fi
run in_ct sha256sum /etc/zonemfa/registry.key
k=${OUT:0:64}
n=$(in_ct sqlite3 /var/lib/zonemfa/registry.db "SELECT count(*) FROM tokens;")
run as_ct sec1 zonemfa-audit verify /var/log/zonemfa/audit.log.1 \
    /var/log/zonemfa/audit.log
if [[ $RC -eq 0 && $k == "$KEYSUM" && $n == "$NTOK" ]]; then
	ok "after the upgrade: same key, same $n tokens, the audit chain verifies ($OUT)"
else
	not_ok "after the upgrade: same key ($k), same tokens ($n, was $NTOK), the chain verifies"
fi

enroll_ct alice || diag "enrolment after the upgrade failed: $OUT"
L3=$NS/login3.out
login_ct "$L3" alice "$ALICE_PW" "${SECRET:-none}" 0
if wait_file "$L3" 'ZM-EOF|ZM-FAIL' 60 && grep -q 'ZM-IN:' "$L3"; then
	ok "alice logs in (password + TOTP) after the reinstall and the upgrade"
else
	CMD="expect zm-login.exp (after the upgrade)"
	RC=""
	OUT=$(tr -d '\r' <"$L3" | tail -n 8)
	not_ok "alice logs in (password + TOTP) after the reinstall and the upgrade"
fi

# ------------------------------------------------------------ remove, purge
tdiag "remove"
run in_ct apt-get remove -y -q libpam-zonemfa zonemfa
expect_rc 0 "apt-get remove libpam-zonemfa zonemfa"
run in_ct grep -l pam_zonemfa /etc/pam.d/common-auth /etc/pam.d/common-account \
    /etc/pam.d/common-session /etc/pam.d/common-session-noninteractive
expect_rc 1 "after removal no common-* PAM file names pam_zonemfa (logins keep working)"
run in_ct systemctl is-active zonemfa-tokend.service
expect_rc_not 0 "the daemon is stopped after removal"
run in_ct stat -c '%a %s' /etc/zonemfa/registry.key
expect_match '^600 32$' "removal keeps the key (only purge removes it)"

tdiag "purge"
run in_ct apt-get purge -y -q libpam-zonemfa zonemfa
expect_rc 0 "apt-get purge libpam-zonemfa zonemfa"
if ! in_ct test -e /etc/zonemfa && ! in_ct test -e /etc/logrotate.d/zonemfa &&
    ! in_ct test -e /etc/systemd/system/multi-user.target.wants/zonemfa-tokend.service &&
    ! in_ct test -e /etc/systemd/system/sockets.target.wants/zonemfa-tokend.socket; then
	ok "purge removes /etc/zonemfa (configuration, key), the logrotate file and the unit links"
else
	CMD="ls after purge"
	RC=""
	OUT=$(in_ct ls -la /etc/zonemfa /etc/systemd/system/*.wants 2>&1)
	not_ok "purge removes /etc/zonemfa, the logrotate file and the unit links"
fi
if in_ct test -s /var/lib/zonemfa/registry.db &&
    in_ct test -s /var/log/zonemfa/audit.log &&
    in_ct test -s /var/log/zonemfa/audit.log.1; then
	ok "purge keeps the evidence: the registry and the audit logs"
else
	not_ok "purge keeps the evidence: the registry and the audit logs"
fi
run in_ct getent group zonemfa-admin
expect_rc 0 "purge keeps the group owning the kept audit logs"
run in_ct sqlite3 /var/lib/zonemfa/registry.db "PRAGMA integrity_check;"
if [[ $RC -eq 0 && $OUT == ok ]]; then
	ok "the kept registry passes PRAGMA integrity_check"
else
	not_ok "the kept registry passes PRAGMA integrity_check"
fi

tdiag "poweroff"
poweroff_ct
rc=$?
CMD="systemctl poweroff"
RC=$rc
OUT=$(tail -n 5 "$NS/console.log")
if [[ $rc -eq 0 ]]; then
	ok "the container powers off cleanly"
else
	not_ok "the container powers off cleanly (systemd-nspawn exit $rc)"
fi
tdiag "done"
done_testing
