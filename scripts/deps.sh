# scripts/deps.sh - the Debian/Ubuntu packages zonemfa needs, and how to
# install the missing ones.  Sourced (bash) by scripts/check and
# scripts/demo; installs only what dpkg does not already have, so reruns
# cost one dpkg-query.

# Build: compiler, autotools, gettext and the libraries configure checks.
ZM_PKGS_BUILD=(
	build-essential autoconf automake libtool pkg-config
	gettext autopoint
	libpam0g-dev libpcsclite-dev libfido2-dev libcbor-dev liboath-dev
	libssl-dev libsqlite3-dev libqrencode-dev
)
# Run time of the demo and the tests: wrappers, tools, locales.
ZM_PKGS_RUN=(
	pcscd libpam-wrapper libnss-wrapper pamtester oathtool
	util-linux locales systemd iproute2 procps python3
)
# Test suite only.  openssh-server, openssh-client, expect: it_sshd.sh
# runs the real sshd (its own config, host key and loopback port, in a
# private mount namespace) and drives ssh, su and vlock with expect.  Note that
# installing openssh-server also enables the system's sshd on port 22 on a
# machine where services start on installation.
ZM_PKGS_TEST=(
	libcmocka-dev libpamtest0-dev vsmartcard-vpcd
	mandoc clang libclang-rt-14-dev libpam-oath
	openssh-server openssh-client expect openssl python3 vlock
	libpam-google-authenticator
	systemd-container debootstrap
	dpkg-dev debhelper lintian fakeroot
)

# zm_as_root CMD...: run CMD as root (sudo when we are not root).
zm_as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "${0##*/}: need root (or sudo) to run: $*" >&2
		return 1
	fi
}

# zm_missing_pkgs PKG...: prints the packages that are not installed.
zm_missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q '^install ok installed$' || echo "$p"
	done
}

# zm_install_pkgs PKG...: installs the missing ones, non-interactively.
zm_install_pkgs() {
	local missing had_vpcd=yes
	command -v dpkg-query >/dev/null 2>&1 || {
		echo "${0##*/}: not a Debian/Ubuntu system (no dpkg-query)" >&2
		return 1
	}
	missing=$(zm_missing_pkgs "$@")
	if [[ -z $missing ]]; then
		echo "packages: all $# present"
		return 0
	fi
	[[ -n $(zm_missing_pkgs vsmartcard-vpcd) ]] && had_vpcd=no
	echo "packages: installing" $missing
	# shellcheck disable=SC2086
	zm_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
	# shellcheck disable=SC2086
	zm_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing || return 1
	# Security: vsmartcard-vpcd drops a reader entry that makes the
	# system pcscd accept a virtual card from the network (TCP 35963).
	# The tests run their own pcscd with a private reader directory.
	if [[ $had_vpcd == no && -e /etc/reader.conf.d/vpcd ]]; then
		zm_as_root rm -f /etc/reader.conf.d/vpcd &&
		    echo "packages: removed /etc/reader.conf.d/vpcd (installed by vsmartcard-vpcd;" \
			"it would let the system pcscd accept network virtual cards)"
	fi
}

# zm_warn_vpcd: say so when the vpcd reader entry is present.
zm_warn_vpcd() {
	if [[ -e /etc/reader.conf.d/vpcd ]]; then
		echo "warning: /etc/reader.conf.d/vpcd exists: the system pcscd accepts a" \
		    "virtual card over TCP 35963; remove it on anything but a test machine" >&2
	fi
}

# zm_ensure_locale: the Japanese locale for the i18n test and the demo.
zm_ensure_locale() {
	if locale -a 2>/dev/null | grep -Eqi '^ja_JP\.utf-?8$'; then
		return 0
	fi
	echo "locale: generating ja_JP.UTF-8"
	zm_as_root localedef -i ja_JP -f UTF-8 ja_JP.UTF-8
}
