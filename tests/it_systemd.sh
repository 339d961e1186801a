#!/bin/bash
# it_systemd.sh - the installed zonemfa on a real systemd: a Debian
# minbase root booted with systemd-nspawn (systemd as PID 1, dbus, logind),
# the built tree installed with `make install` for --prefix=/usr
# --sysconfdir=/etc --localstatedir=/var, the daemon started from the
# SHIPPED unit (contrib/zonemfa-tokend.service), /etc/pam.d/login edited
# as the README says with the lines of contrib/pam.d/zonemfa-lgwan, and
# real logins through /bin/login (pam_unix, pam_systemd, pam_zonemfa)
# driven by expect.  Checks that logind registers alice's session and the
# daemon records its logind id; that revoking her token ends the logind
# session with all its processes (issue 9 item 5); that temp-password
# works under the unit's sandbox and the next login must change the
# password (issue 9 item 4).
#
# Needs root, systemd-nspawn (systemd-container), debootstrap, nsenter
# (util-linux) and network access to a Debian mirror the first time.
#
# The root is cached (ZM_NSPAWN_CACHE, default $top_builddir/_nspawn):
#   base/   debootstrap --variant=minbase + the packages below (built once,
#           ~3-5 min; ZM_NSPAWN_ROOT=DIR starts from a copy of an existing
#           minbase root instead of running debootstrap)
#   build/  an out-of-tree build configured for /usr, /etc, /var (unless
#           $top_builddir already is one); rebuilt incrementally each run
#   stage/  `make install DESTDIR=stage/`; ldd of its binaries and the
#           host's dpkg name the library packages installed in base/
#   run/    a fresh copy of base/ for each run, stage/ copied into it
# scripts/check sets ZM_NSPAWN_CACHE=_build/nspawn.  Timings: first run
# 7-17 min (debootstrap 3-6, apt 1, configure + make 3-8), then 20-45 s.
# Environment: ZM_NSPAWN=skip skips the test, ZM_NSPAWN=prepare only
# builds base/ and build/ (no TAP plan); ZM_KEEP=1 keeps run/ and the
# container's logs; ZM_NSPAWN_MIRROR (default: the host's Debian mirror).
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/nspawn.sh
. "$(dirname "$0")/nspawn.sh"

T0=$(date +%s)
tdiag() { diag "[$(($(date +%s) - T0)) s] $*"; }

[[ ${ZM_NSPAWN:-} == skip ]] && skip_all_env "ZM_NSPAWN=skip"
[[ $(id -u) -eq 0 ]] ||
    skip_all "needs root (debootstrap, chroot, systemd-nspawn boot a container)"
for c in systemd-nspawn:systemd-container debootstrap:debootstrap \
    nsenter:util-linux flock:util-linux; do
	command -v "${c%%:*}" >/dev/null ||
	    skip_all "${c%%:*} not found (package ${c#*:})"
done
[[ -d /sys/fs/cgroup ]] || skip_all "no /sys/fs/cgroup: systemd cannot boot"
# The root is the host's Debian release, so the binaries built here run in it.
# shellcheck disable=SC1091
os_id=$(. /etc/os-release && echo "${ID:-}")
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ $os_id == debian && -n $suite ]] ||
    skip_all_env "the container root is the host's Debian release: host is '$os_id'"

NS=${ZM_NSPAWN_CACHE:-$top_builddir/_nspawn}
mkdir -p "$NS" || bail_out "cannot create $NS"
NS=$(cd "$NS" && pwd)
BASE=$NS/base
RUN=$NS/run

# Packages of the root: systemd as PID 1 with logind and the bus, the
# login programs, expect and oathtool to log in like a person, sqlite3 to
# read the store; the run-time libraries of the built binaries are added
# below (from ldd and the host's dpkg).
PKGS_BASE="systemd systemd-sysv dbus libpam-systemd libpam-modules login
passwd util-linux expect oathtool sqlite3"

MIRROR=${ZM_NSPAWN_MIRROR:-$(host_mirror)}

# One builder at a time (a second test run may share the cache).
exec 9>"$NS/lock"
flock -w 1800 9 || bail_out "$NS/lock held for 30 min"

# ------------------------------------------------------------ build
# Where Debian's libpam looks for modules (the root is the host's release).
PAMDIR=$(find /usr/lib* -name pam_unix.so -path '*/security/*' 2>/dev/null | head -n 1)
[[ -n $PAMDIR ]] || skip_all "no pam_unix.so on the host (libpam-modules)"
PAMDIR=$(dirname "$PAMDIR")

# A build configured for the system paths the shipped unit and pam.d
# files assume: $top_builddir if it is one, else our own (out of tree).
mkvar() { sed -n "s/^$2 = //p" "$1/Makefile" 2>/dev/null | head -n 1; }
if [[ $(mkvar "$top_builddir" prefix) == /usr &&
    $(mkvar "$top_builddir" sysconfdir) == /etc &&
    $(mkvar "$top_builddir" localstatedir) == /var &&
    $(mkvar "$top_builddir" pammoddir) == "$PAMDIR" ]]; then
	BUILD=$top_builddir
else
	BUILD=$NS/build
	if [[ ! -e $BUILD/Makefile ]]; then
		src=$(cd "$top_srcdir" && pwd)
		[[ -e $src/configure ]] || bail_out "no $src/configure"
		if [[ -e $src/config.status ]]; then
			skip_all_env "$src is configured in place (prefix $(mkvar "$src" prefix)):" \
			    "configure it with --prefix=/usr --sysconfdir=/etc" \
			    "--localstatedir=/var --with-pammoddir=$PAMDIR, or build out of tree"
		fi
		tdiag "configure in $BUILD"
		mkdir -p "$BUILD"
		if ! (cd "$BUILD" && "$src/configure" -q --prefix=/usr \
		    --sysconfdir=/etc --localstatedir=/var \
		    --with-pammoddir="$PAMDIR") >"$NS/build.log" 2>&1; then
			tail -n 20 "$NS/build.log" | sed 's/^/#   /'
			rm -f "$BUILD/Makefile"
			bail_out "configure for /usr failed ($NS/build.log)"
		fi
	fi
	tdiag "make in $BUILD"
	if ! make -C "$BUILD" -j"${JOBS:-2}" >>"$NS/build.log" 2>&1; then
		tail -n 20 "$NS/build.log" | sed 's/^/#   /'
		bail_out "make in $BUILD failed ($NS/build.log)"
	fi
fi
STAGE=$NS/stage
rm -rf "$STAGE"
run make -C "$BUILD" install DESTDIR="$STAGE"
expect_rc 0 "make install DESTDIR=... (build configured for /usr, /etc, /var)"
check "pam_zonemfa.so installed where libpam looks ($PAMDIR)" \
    test -f "$STAGE$PAMDIR/pam_zonemfa.so"
BINS="/usr/sbin/zonemfa-tokend /usr/sbin/zonemfa-enroll
/usr/sbin/zonemfa-revoke /usr/sbin/zonemfa-audit $PAMDIR/pam_zonemfa.so"

# The packages of their libraries, from the host that built them.
lib_pkg() {
	local q
	for q in "$1" "$(readlink -f "$1")" "/usr$1" "${1#/usr}"; do
		dpkg-query -S "$q" 2>/dev/null | head -n 1 | cut -d: -f1 | grep . &&
		    return 0
	done
	return 1
}
libpkgs=""
nolib=""
for l in $(for b in $BINS; do ldd "$STAGE$b"; done |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
	p=$(lib_pkg "$l") && libpkgs="$libpkgs $p" || nolib="$nolib $l"
done
CMD="ldd + dpkg-query -S"
RC=""
OUT="no package:$nolib"
if [[ -z $nolib && -n $libpkgs ]]; then
	# shellcheck disable=SC2046,SC2086
	ok "the libraries of the installed binaries come from packages:" $(echo $libpkgs | tr ' ' '\n' | sort -u)
else
	not_ok "the libraries of the installed binaries come from packages"
fi
# shellcheck disable=SC2086
PKGS=$(echo $PKGS_BASE $libpkgs | tr ' ' '\n' | sort -u | tr '\n' ' ')
PKGS=${PKGS% }

# ------------------------------------------------------------ base root
if [[ ! -e $BASE/.zm-base ]]; then
	tdiag "building the minbase root in $BASE"
	rm -rf "$BASE.tmp"
	if [[ -n ${ZM_NSPAWN_ROOT:-} ]]; then
		tdiag "copying $ZM_NSPAWN_ROOT"
		cp -a --reflink=auto "$ZM_NSPAWN_ROOT" "$BASE.tmp" ||
		    bail_out "cannot copy $ZM_NSPAWN_ROOT"
	else
		tdiag "debootstrap --variant=minbase $suite from $MIRROR"
		if ! debootstrap --variant=minbase "$suite" "$BASE.tmp" "$MIRROR" \
		    >"$NS/debootstrap.log" 2>&1; then
			diag "debootstrap failed:"
			tail -n 20 "$NS/debootstrap.log" | sed 's/^/#   /'
			bail_out "debootstrap failed ($NS/debootstrap.log)"
		fi
	fi
	# apt in the root uses the host's sources (same versions as the
	# libraries the binaries are built against: updates, security).
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
	tdiag "minbase root ready"
fi
if [[ $(cat "$BASE/.zm-packages" 2>/dev/null) != "$PKGS" ]]; then
	tdiag "apt-get install in the root: $PKGS"
	# shellcheck disable=SC2086
	if ! { nspawn_run "$BASE" apt-get update -q &&
	    nspawn_run "$BASE" apt-get install -y -q --no-install-recommends \
	    $PKGS && nspawn_run "$BASE" apt-get clean; } >"$NS/apt.log" 2>&1; then
		diag "apt-get in the root failed:"
		tail -n 20 "$NS/apt.log" | sed 's/^/#   /'
		bail_out "apt-get install in the root failed ($NS/apt.log)"
	fi
	echo "$PKGS" >"$BASE/.zm-packages"
	tdiag "packages installed"
fi
flock -u 9
if [[ ${ZM_NSPAWN:-} == prepare ]]; then
	# scripts/check: the slow part before `make check`, not during it.
	tdiag "prepared $BASE and $BUILD"
	exit 0
fi

# ------------------------------------------------------------ run root
tdiag "fresh root $RUN"
rm -rf "$RUN"
cp -a --reflink=auto "$BASE" "$RUN" || bail_out "cannot copy $BASE"
cp -a "$STAGE/." "$RUN/" || bail_out "cannot copy $STAGE into $RUN"
# Every installed program and the module find their libraries in the root.
# shellcheck disable=SC2086
run chroot "$RUN" ldd $BINS
if [[ $RC -eq 0 ]] && ! grep -q 'not found' <<<"$OUT"; then
	ok "the installed binaries find all their libraries in the root"
else
	not_ok "the installed binaries find all their libraries in the root"
fi

# The configuration as the README says: the example, zone lgwan, no card
# reader or FIDO2 here; the key created beforehand (the unit keeps /etc
# read-only); the shipped unit and socket.
install -d -m 0755 "$RUN/etc/zonemfa"
sed -e 's/^\(pcsc *=\).*/\1 no/' -e 's/^\(fido *=\).*/\1 no/' \
    -e 's/^\(zone *=\).*/\1 lgwan/' \
    "$top_srcdir/contrib/zonemfa.conf.example" >"$RUN/etc/zonemfa/zonemfa.conf"
chmod 0644 "$RUN/etc/zonemfa/zonemfa.conf"
(umask 077 && head -c 32 /dev/urandom >"$RUN/etc/zonemfa/registry.key")
install -m 0644 "$top_srcdir/contrib/zonemfa-tokend.service" \
    "$top_srcdir/contrib/zonemfa-tokend.socket" "$RUN/etc/systemd/system/"
install -m 0644 "$top_srcdir/contrib/pam.d/zonemfa-lgwan" "$RUN/etc/pam.d/"

# /etc/pam.d/login as the README says: the zone's auth lines in place of
# "@include common-auth", its account and session lines after
# "@include common-account" and "@include common-session" (after
# pam_systemd: pam_zonemfa records the logind session id).
lg=$top_srcdir/contrib/pam.d/zonemfa-lgwan
awk -v auth="$(grep -E '^auth[[:space:]]' "$lg")" \
    -v acct="$(grep -E '^account[[:space:]]' "$lg")" \
    -v sess="$(grep -E '^session[[:space:]]' "$lg")" '
	/^@include[ \t]+common-auth/ { print auth; na++; next }
	/^@include[ \t]+common-account/ { print; print acct; nc++; next }
	/^@include[ \t]+common-session/ { print; print sess; ns++; next }
	{ print }
	END { exit !(na == 1 && nc == 1 && ns == 1) }' \
    "$BASE/etc/pam.d/login" >"$RUN/etc/pam.d/login"
RC=$?
CMD="awk (edit /etc/pam.d/login)"
OUT=$(cat "$RUN/etc/pam.d/login")
expect_rc 0 "/etc/pam.d/login edited with the lines of contrib/pam.d/zonemfa-lgwan"
grep -q 'pam_systemd' "$RUN/etc/pam.d/common-session" ||
    diag "warning: no pam_systemd in the root's common-session"

# Users: alice (password known), hd1 of the helpdesk.
ALICE_PW=Alice-pw-7391
NEW_PW=Alice-new-Pw-8264
{
	chroot "$RUN" groupadd --system zonemfa-helpdesk &&
	    chroot "$RUN" groupadd --system zonemfa-admin &&
	    chroot "$RUN" useradd -m -s /bin/bash alice &&
	    chroot "$RUN" useradd -m -s /bin/bash -G zonemfa-helpdesk hd1 &&
	    echo "alice:$ALICE_PW" | chroot "$RUN" chpasswd
} >"$NS/users.log" 2>&1 || bail_out "cannot create the users: $(cat "$NS/users.log")"

# The login script: expect drives /bin/login on a pty like a person.
#   zm-login.exp FILE, FILE holding USER PASSWORD SECRET NEWPW|- HOLD(0|1)
# one a line (not on the command line: systemd logs it as the description)
# Prints ZM-IN:<XDG_SESSION_ID>:<shell pid>, with HOLD a background
# "sleep 1000" (HOLD 2: a loop that ignores SIGHUP and SIGTERM) as
# ZM-BG:<pid>, then waits for the session to be ended
# (ZM-EOF); else logs out.  Exit status: 0 ok, 2-9 the step that failed.
cat >"$RUN/root/zm-login.exp" <<'EOF'
set timeout 30
set f [open [lindex $argv 0]]
lassign [split [string trimright [read $f] "\n"] "\n"] user pw secret newpw hold
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
	timeout { fail 3 "no one-time code prompt" }
	eof { fail 3 "login ended before the code prompt" }
}
send "[exec oathtool --totp -b $secret]\r"
if {$newpw ne "-"} {
	expect {
		-re {required to change your password} {}
		timeout { fail 4 "no forced password change" }
		eof { fail 4 "login ended instead of a password change" }
	}
	expect {
		-re {[Cc]urrent password: $} { send "$pw\r"; exp_continue }
		-re {New password: $} { send "$newpw\r"; exp_continue }
		-re {Retype new password: $} { send "$newpw\r" }
		timeout { fail 5 "password change prompts" }
		eof { fail 5 "login ended during the password change" }
	}
}
# The shell's prompt first: what is typed before it may be flushed.
expect {
	-re {[$#] $} {}
	timeout { fail 6 "no shell prompt" }
	eof { fail 6 "login ended without a shell" }
}
send "echo ZM-IN:\$XDG_SESSION_ID:\$\$\r"
expect {
	-re {ZM-IN:([0-9]*):([0-9]+)} {}
	timeout { fail 6 "no shell" }
	eof { fail 6 "login ended without a shell" }
}
if {$hold} {
	if {$hold == 2} {
		# A job that ignores the hang-up and SIGTERM.
		send "bash -c 'trap \"\" HUP TERM; while :; do sleep 1; done' & echo ZM-BG:\$!\r"
	} else {
		send "sleep 1000 & echo ZM-BG:\$!\r"
	}
	expect {
		-re {ZM-BG:([0-9]+)} {}
		timeout { fail 7 "no background job" }
	}
	set timeout 300
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
CMD="systemctl is-system-running --wait"
RC=$state
OUT=$(tail -n 30 "$NS/console.log")
if [[ $state == running || $state == degraded ]]; then
	ok "the container boots with systemd as PID 1 ($state)"
	tdiag "booted"
	[[ $state == running ]] ||
	    diag "$(in_ct systemctl --failed --no-legend --plain 2>&1)"
else
	not_ok "the container boots with systemd as PID 1 (state '$state')"
	bail_out "container did not boot"
fi

# ------------------------------------------------------------ the daemon
run in_ct systemctl enable --now zonemfa-tokend
expect_rc 0 "systemctl enable --now zonemfa-tokend (the shipped unit)"
run in_ct systemctl show -p ActiveState -p SubState -p FragmentPath \
    -p MainPID zonemfa-tokend
if grep -qx 'ActiveState=active' <<<"$OUT" && grep -qx 'SubState=running' <<<"$OUT" &&
    grep -qx 'FragmentPath=/etc/systemd/system/zonemfa-tokend.service' <<<"$OUT"; then
	ok "zonemfa-tokend is running from /etc/systemd/system/zonemfa-tokend.service (Type=notify: ready)"
else
	not_ok "zonemfa-tokend is running from the shipped unit"
	ct_journal -u zonemfa-tokend -n 30
	bail_out "the daemon did not start"
fi

# R16: the daemon reads the clock's synchronisation state (adjtimex, modes
# 0).  ProtectClock=yes would block that even read only (systemd issue
# 26413), and so would SystemCallFilter=@system-service alone: the shipped
# unit has ProtectClock=no and allows clock_adjtime/adjtimex (no
# CAP_SYS_TIME in the bounding set: read only).
run in_ct journalctl --no-pager -q -u zonemfa-tokend
if grep -q 'ntp_adjtime' <<<"$OUT"; then
	not_ok "R16: the daemon can check the clock under the shipped unit"
	diag "$(grep 'ntp_adjtime' <<<"$OUT")"
else
	ok "R16: the daemon can check the clock under the shipped unit"
fi

run in_ct systemd-analyze security --no-pager zonemfa-tokend
score=$(grep -E 'Overall exposure level' <<<"$OUT" | sed 's/^[^A-Za-z]*//')
if [[ -n $score ]]; then
	ok "systemd-analyze security zonemfa-tokend"
	diag "$score"
else
	not_ok "systemd-analyze security zonemfa-tokend"
fi

# ------------------------------------------------------------ login
if enroll_ct alice; then
	ok "hd1 enrols a TOTP token for alice (zonemfa-enroll totp as hd1)"
else
	not_ok "hd1 enrols a TOTP token for alice"
	ct_journal -u zonemfa-tokend -n 20
fi

tdiag "login alice (password + TOTP) through /bin/login"
L1=$NS/login1.out
login_ct "$L1" alice "$ALICE_PW" "$SECRET" - 1
if wait_file "$L1" 'ZM-BG:[0-9]+' 60; then
	ok "alice logs in through /bin/login: password, one-time code, shell"
else
	CMD="expect zm-login.exp alice (password, code)"
	RC=$(kill -0 "$LOGIN_PID" 2>/dev/null && echo running || echo exited)
	OUT=$(cat "$L1")
	not_ok "alice logs in through /bin/login: password, one-time code, shell"
	ct_journal -n 40
fi
SID=$(sed -n 's/.*ZM-IN:\([0-9][0-9]*\):[0-9][0-9]*.*/\1/p' "$L1" | tr -d '\r' | head -n 1)
BGPID=$(sed -n 's/.*ZM-BG:\([0-9][0-9]*\).*/\1/p' "$L1" | tr -d '\r' | head -n 1)
diag "logind session '$SID', background sleep pid '$BGPID'"

run in_ct loginctl list-sessions --no-legend
if [[ -n $SID ]] && grep -Eq "^ *$SID +[0-9]+ +alice( |$)" <<<"$OUT"; then
	ok "loginctl list-sessions shows alice's session $SID"
else
	not_ok "loginctl list-sessions shows alice's session (XDG_SESSION_ID '$SID')"
fi
run in_ct loginctl show-session "${SID:-none}" -p Name -p Service -p Type -p TTY
if grep -qx 'Name=alice' <<<"$OUT" && grep -qx 'Service=login' <<<"$OUT" &&
    grep -qx 'Type=tty' <<<"$OUT"; then
	ok "logind session $SID: user alice, PAM service login, type tty"
else
	not_ok "logind session $SID: user alice, PAM service login, type tty"
fi
run in_ct sqlite3 /var/lib/zonemfa/registry.db \
    "SELECT logind_id FROM sessions WHERE user = 'alice' AND closed = 0;"
if [[ $RC -eq 0 && -n $SID && $OUT == "$SID" ]]; then
	ok "the registry records the open session with logind id $SID"
else
	not_ok "the registry records the open session with its logind id ('$SID')"
fi
run in_ct cat "/proc/$BGPID/cgroup"
if [[ -n $BGPID && -n $SID ]] && grep -q "/session-$SID.scope" <<<"$OUT"; then
	ok "the background sleep $BGPID runs in session-$SID.scope"
else
	not_ok "the background sleep runs in alice's session scope"
fi

# ------------------------------------------------------------ revocation
tdiag "revoke alice's token"
run as_ct hd1 zonemfa-revoke --user alice --all --reason lost
if [[ $RC -eq 0 ]] && grep -qx 'sessions ended: 1' <<<"$OUT"; then
	ok "zonemfa-revoke --user alice --all --reason lost (as hd1): sessions ended: 1"
else
	not_ok "zonemfa-revoke --user alice --all --reason lost (as hd1): sessions ended: 1"
	ct_journal -u zonemfa-tokend -n 20
fi
gone=no
for i in $(seq 100); do
	if ! in_ct loginctl list-sessions --no-legend | grep -Eq "^ *$SID +"; then
		gone=yes
		break
	fi
	sleep 0.1
done
run in_ct loginctl list-sessions --no-legend
if [[ -n $SID && $gone == yes ]]; then
	ok "logind's session $SID is gone"
else
	not_ok "logind's session $SID is gone"
fi
gone=no
for i in $(seq 100); do
	in_ct test -e "/proc/$BGPID" || { gone=yes; break; }
	sleep 0.1
done
CMD="test -e /proc/$BGPID (in the container)"
RC=$gone
OUT=$(in_ct cat "/proc/$BGPID/status" 2>&1 | head -n 8)
if [[ -n $BGPID && $gone == yes ]]; then
	ok "its background sleep ($BGPID) is gone"
else
	not_ok "its background sleep ($BGPID) is gone"
fi
if wait_file "$L1" 'ZM-EOF|ZM-FAIL' 15 && grep -q 'ZM-EOF' "$L1"; then
	ok "the login's terminal was hung up (expect saw the end of the session)"
else
	CMD="expect zm-login.exp"
	RC=""
	OUT=$(tail -n 5 "$L1")
	not_ok "the login's terminal was hung up (expect saw the end of the session)"
fi
run in_ct grep -E '"event": ?"session_end"' /var/log/zonemfa/audit.log
if [[ -n $SID ]] && grep -E '"result": ?"ok"' <<<"$OUT" |
    grep -q "logind $SID"; then
	ok "audit: session_end ok with logind $SID"
else
	not_ok "audit: session_end ok with logind $SID"
fi
# Ended by logind, not by the daemon's signal fallback: PID 1 stopped the
# session's scope (a scope emptied by signals is only "Deactivated"), and
# the daemon logged no failed loginctl.
run in_ct journalctl --no-pager -q _PID=1 -u "session-$SID.scope"
if [[ -n $SID ]] && grep -q "Stopping session-$SID.scope" <<<"$OUT"; then
	ok "logind's TerminateSession stopped session-$SID.scope"
else
	not_ok "logind's TerminateSession stopped session-$SID.scope"
fi
run in_ct journalctl --no-pager -q -u zonemfa-tokend
expect_no_match 'loginctl' "the daemon's loginctl terminate-session did not fail"

# ------------------------------------------------------------ temp-password
tdiag "temp-password alice"
enroll_ct alice || { not_ok "hd1 enrols a new TOTP token for alice"; }
old_hash=$(in_ct getent shadow alice | cut -d: -f2)
run as_ct hd1 zonemfa-enroll temp-password alice
TEMP_PW=$(grep -E '^[A-Za-z0-9]{16}$' <<<"$OUT" | head -n 1)
if [[ $RC -eq 0 && -n $TEMP_PW ]]; then
	ok "zonemfa-enroll temp-password alice (as hd1) under the shipped unit: exit 0, a password"
else
	not_ok "zonemfa-enroll temp-password alice (as hd1) under the shipped unit"
	ct_journal -u zonemfa-tokend -n 20
	ct_journal -n 20 -u 'run-u*'
	ct_journal -n 20 _COMM=chpasswd + _COMM=chage + _COMM=systemd-run
fi
new_hash=$(in_ct getent shadow alice | cut -d: -f2)
CMD="getent shadow alice"
RC=""
OUT="before: ${old_hash:0:12}... after: ${new_hash:0:12}..."
if [[ -n $new_hash && $new_hash != "$old_hash" ]]; then
	ok "/etc/shadow: alice's password hash changed"
else
	not_ok "/etc/shadow: alice's password hash changed"
fi
run in_ct chage -l alice
expect_match 'password must be changed' "chage -l alice: password must be changed"
# Through systemd-run: PID 1 ran both tools in transient units (the
# daemon's own sandbox cannot write /etc).
run in_ct journalctl --no-pager -q _PID=1
if grep -Eq 'Started run-[^ ]+\.service.*chpasswd' <<<"$OUT" &&
    grep -Eq 'Started run-[^ ]+\.service.*chage' <<<"$OUT"; then
	ok "chpasswd and chage ran in transient units (systemd-run)"
else
	OUT=$(grep -E 'run-' <<<"$OUT" | tail -n 10)
	not_ok "chpasswd and chage ran in transient units (systemd-run)"
fi

tdiag "login alice with the temporary password"
L2=$NS/login2.out
login_ct "$L2" alice "${TEMP_PW:-none}" "${SECRET:-none}" "$NEW_PW" 0
if wait_file "$L2" 'ZM-EOF|ZM-FAIL' 60 && grep -q 'ZM-IN:' "$L2" &&
    grep -q 'ZM-EOF' "$L2"; then
	ok "login with the temporary password + code must change it, then gets a shell"
else
	CMD="expect zm-login.exp alice TEMP SECRET NEWPW"
	RC=""
	OUT=$(tr -d '\r' <"$L2" | tail -n 15)
	not_ok "login with the temporary password + code must change it, then gets a shell"
fi
run in_ct chage -l alice
expect_no_match 'password must be changed' "after the change, the password is no longer expired"

# ------------------------------------------------------------ stubborn job
# Ending through logind: TerminateSession stops the session's scope, whose
# processes get SIGTERM and only after the scope's stop time-out (90 s)
# SIGKILL.  The daemon watches the session's processes and, after its
# grace periods, kills the scope (loginctl kill-session --signal=SIGKILL):
# a job that ignores SIGHUP and SIGTERM is gone when revoke returns.
tdiag "a job that ignores SIGTERM in a session ended through logind"
L3=$NS/login3.out
# A new token: the last one's code of this time step is used up.
enroll_ct alice || diag "enrolment failed: $OUT"
login_ct "$L3" alice "$NEW_PW" "${SECRET:-none}" - 2
wait_file "$L3" 'ZM-BG:[0-9]+' 60
SID3=$(sed -n 's/.*ZM-IN:\([0-9][0-9]*\):[0-9][0-9]*.*/\1/p' "$L3" | tr -d '\r' | head -n 1)
BG3=$(sed -n 's/.*ZM-BG:\([0-9][0-9]*\).*/\1/p' "$L3" | tr -d '\r' | head -n 1)
run as_ct hd1 zonemfa-revoke --user alice --all --reason lost
if [[ -n $SID3 && -n $BG3 && $RC -eq 0 ]] &&
    grep -qx 'sessions ended: 1' <<<"$OUT"; then
	gone=no
	for i in $(seq 50); do
		in_ct test -e "/proc/$BG3" || { gone=yes; break; }
		sleep 0.1
	done
	if [[ $gone == yes ]]; then
		ok "a job ignoring SIGHUP/SIGTERM is gone within 5 s of 'sessions ended: 1'"
	else
		not_ok "a job ignoring SIGHUP/SIGTERM is gone within 5 s of 'sessions ended: 1'"
		diag "$(in_ct loginctl list-sessions --no-legend 2>&1)"
		in_ct loginctl kill-session --signal=SIGKILL "$SID3" >/dev/null 2>&1
	fi
else
	OUT="$OUT
$(tr -d '\r' <"$L3" | tail -n 8)"
	not_ok "second session (password changed) held and revoked (session '$SID3', job '$BG3')"
fi

# ------------------------------------------------------------ shutdown
tdiag "poweroff"
poweroff_ct
rc=$?
CMD="systemctl poweroff (in the container)"
RC=$rc
OUT=$(tail -n 5 "$NS/console.log")
if [[ $rc -eq 0 ]]; then
	ok "the container powers off cleanly (systemd-nspawn exit 0)"
else
	not_ok "the container powers off cleanly (systemd-nspawn exit $rc)"
fi
tdiag "done"
done_testing
