# tests/lib.sh - TAP helpers and a sandbox for the integration tests.
#
# Sourced by tests/it_*.sh (bash).  Each test file gets a fresh directory
# with nss_wrapper users and groups, a pam_matrix password file, a
# zonemfa.conf, PAM service files (one per zone) and, on request, a private
# zonemfa-tokend.  Everything goes through the real libpam (pam_wrapper),
# the real pam_zonemfa.so and the real daemon process.
#
# Environment: top_builddir (exported by the Makefile; default: the build
# directory we are run from), ZM_LOCALEDIR (where `make install` puts the
# catalogs), ZM_KEEP=1 keeps the sandbox directory for debugging.

set -u

# ---------------------------------------------------------------- TAP

_zm_n=0
_zm_fail=0
_zm_plan=""
OUT=""		# captured stdout+stderr of the last run/run_login
RC=0		# its exit status
CMD=""		# its command line, for diagnostics

plan() {
	_zm_plan=$1
	echo "1..$1"
}

diag() {
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}

ok() {
	_zm_n=$((_zm_n + 1))
	echo "ok $_zm_n - $*"
}

# not_ok DESC: a failure, with the last captured command as diagnostics.
not_ok() {
	_zm_n=$((_zm_n + 1))
	_zm_fail=$((_zm_fail + 1))
	echo "not ok $_zm_n - $*"
	show_last
}

# Skips say their true reason and count every test they leave out.
# With CI=true a test left out for a missing dependency is a failure:
# nothing security-relevant is skipped silently on CI.
#
# skip DESC REASON: one test that has no meaning here (the clock is
#   synchronised, so there is no unsynchronised record to look at).
# skip_dep DESC REASON: one test not run for a missing dependency.
# skip_all REASON: the whole file, for a missing dependency.
# skip_all_env REASON: the whole file, for a reason that is not a missing
#   dependency (an explicit ZM_NSPAWN=skip, a sanitizer build that cannot
#   run it): a skip on CI too.
# A skipped file reports each of its tests: ZM_PLAN (set by the file
# before it sources lib.sh) or else the count of its last complete run in
# this build tree (tests/.counts/NAME, written by done_testing).
_zm_ci() {
	[[ ${CI:-} == true || ${CI:-} == 1 ]]
}

skip() {
	_zm_n=$((_zm_n + 1))
	echo "ok $_zm_n - $1 # SKIP ${2:-}"
}

skip_dep() {
	if _zm_ci; then
		# not_ok without the last command's output: that is not why.
		_zm_n=$((_zm_n + 1))
		_zm_fail=$((_zm_fail + 1))
		echo "not ok $_zm_n - $1 (not run: ${2:-}; CI=true: a missing dependency is a failure)"
	else
		skip "$1" "${2:-}"
	fi
}

_zm_counts_dir() {
	echo "${top_builddir:-.}/tests/.counts"
}

# The number of tests of this file, "" when unknown.
_zm_known_count() {
	local f
	if [[ -n ${ZM_PLAN:-} ]]; then
		echo "$ZM_PLAN"
		return
	fi
	f=$(_zm_counts_dir)/$(basename "$0")
	[[ -r $f ]] && grep -Exm1 '[0-9]+' "$f"
}

# _zm_skip_file FAIL REASON
_zm_skip_file() {
	local fail=$1 reason=$2 name n k
	name=$(basename "$0")
	n=$(_zm_known_count)
	if [[ -z $n || $n -eq 0 ]]; then
		n=1
		reason="$reason (the number of tests is not known: the file never ran to its end in this build tree and sets no ZM_PLAN)"
	fi
	[[ -n $_zm_plan ]] || echo "1..$n"
	for ((k = _zm_n + 1; k <= n; k++)); do
		if [[ $fail == 1 ]]; then
			echo "not ok $k - $name test $k of $n not run: $reason (CI=true: a missing dependency is a failure)"
		else
			echo "ok $k - $name test $k of $n # SKIP $reason"
		fi
	done
	exit 0
}

skip_all() {
	if _zm_ci; then
		_zm_skip_file 1 "$*"
	fi
	_zm_skip_file 0 "$*"
}

skip_all_env() {
	_zm_skip_file 0 "$*"
}

bail_out() {
	echo "Bail out! $*"
	exit 99
}

show_last() {
	diag "command: $CMD" "exit status: $RC"
	if [[ -n $OUT ]]; then
		diag "output:"
		printf '%s\n' "$OUT" | sed 's/^/#   /'
	fi
	if [[ -n ${ZM_DIR:-} && -s $ZM_DIR/tokend.log ]]; then
		diag "daemon log (last 15 lines):"
		tail -n 15 "$ZM_DIR/tokend.log" | sed 's/^/#   /'
	fi
}

# check DESC CMD...: ok when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

expect_rc() {
	if [[ $RC == "$1" ]]; then
		ok "$2"
	else
		not_ok "$2 (exit status $RC, wanted $1)"
	fi
}

expect_rc_not() {
	if [[ $RC != "$1" ]]; then
		ok "$2"
	else
		not_ok "$2 (exit status $RC)"
	fi
}

# expect_match ERE DESC: the captured output matches ERE.
expect_match() {
	if grep -Eq -- "$1" <<<"$OUT"; then
		ok "$2"
	else
		not_ok "$2 (no match for /$1/)"
	fi
}

expect_no_match() {
	if grep -Eq -- "$1" <<<"$OUT"; then
		not_ok "$2 (unexpected match for /$1/)"
	else
		ok "$2"
	fi
}

# done_testing: the plan (unless given up front) and a summary.  Exits 0:
# the TAP lines carry the failures, and automake would count a non-zero
# status as one more (ERROR) result.
done_testing() {
	if [[ -z $_zm_plan ]]; then
		echo "1..$_zm_n"
	elif [[ $_zm_plan != "$_zm_n" ]]; then
		echo "# planned $_zm_plan tests but ran $_zm_n"
		exit 1
	fi
	if [[ -n ${ZM_PLAN:-} && $ZM_PLAN != "$_zm_n" ]]; then
		echo "not ok $((_zm_n + 1)) - $(basename "$0") sets ZM_PLAN=$ZM_PLAN but ran $_zm_n tests: update ZM_PLAN, which a skipped run reports"
		exit 0
	fi
	# What a later skip of the whole file reports (skip_all).
	mkdir -p "$(_zm_counts_dir)" 2>/dev/null &&
	    echo "$_zm_n" >"$(_zm_counts_dir)/$(basename "$0")" 2>/dev/null
	[[ $_zm_fail -eq 0 ]] || echo "# failed $_zm_fail of $_zm_n"
	exit 0
}

# run CMD...: run CMD, capture stdout+stderr in OUT and the status in RC.
run() {
	CMD="$*"
	OUT=$("$@" 2>&1)
	RC=$?
	return 0
}

# ---------------------------------------------------------------- locate

_zm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${top_builddir:-} ]]; then
	if [[ -x $PWD/tokend/zonemfa-tokend ]]; then
		top_builddir=$PWD
	else
		top_builddir=$(dirname "$_zm_here")
	fi
fi
: "${top_srcdir:=$(dirname "$_zm_here")}"

ZM_TOKEND=$top_builddir/tokend/zonemfa-tokend
ZM_ENROLL=$top_builddir/enroll/zonemfa-enroll
ZM_REVOKE=$top_builddir/enroll/zonemfa-revoke
ZM_AUDIT=$top_builddir/enroll/zonemfa-audit
ZM_LOGIN=$top_builddir/tests/zm-login
ZM_MODULE=$top_builddir/pam_module/.libs/pam_zonemfa.so

_zm_pclib() {
	# pkg-config prints the library's absolute path as "Libs:".
	local p
	p=$(pkg-config --libs "$1" 2>/dev/null | tr ' ' '\n' | grep -E '/lib[^/]*\.so$' | head -n 1)
	if [[ -n $p && -e $p ]]; then echo "$p"; else echo "$2"; fi
}
PAM_WRAPPER_LIB=$(_zm_pclib pam_wrapper libpam_wrapper.so)
NSS_WRAPPER_LIB=$(_zm_pclib nss_wrapper libnss_wrapper.so)
PAM_MATRIX=$(pkg-config --variable=modules pam_wrapper 2>/dev/null)/pam_matrix.so
[[ -e $PAM_MATRIX ]] || PAM_MATRIX=$(find /usr/lib* -name pam_matrix.so 2>/dev/null | head -n 1)

# The ASan runtime must come first in the initial library list; when the
# module or a binary was built with it, preload it ahead of the wrappers.
_zm_asan_rt() {
	local f
	for f in "$@"; do
		[[ -e $f ]] || continue
		ldd "$f" 2>/dev/null | awk '/lib(clang_rt\.)?asan/ { print $3; exit }'
	done | head -n 1
}

# ---------------------------------------------------------------- sandbox

# Test users (PLAN.md): name uid
declare -A ZM_UID=([root]=0 [alice]=2001 [bob]=2002 [carol]=2003
	[hd1]=2101 [hd2]=2102 [adm1]=2201)
ZM_USERS="alice bob carol hd1 hd2 adm1"
ZM_ZONES="lgwan mynumber internet strict"

# password USER: the pam_matrix password of USER.
password() {
	echo "pw-$1"
}

_zm_require() {
	local f
	[[ $(id -u) -eq 0 ]] ||
	    skip_all "needs root (setpriv to the test users; CI runs as root)"
	for f in "$ZM_TOKEND" "$ZM_ENROLL" "$ZM_REVOKE" "$ZM_AUDIT" \
	    "$ZM_LOGIN" "$ZM_MODULE"; do
		[[ -e $f ]] || skip_all "not built: $f"
	done
	[[ -e $PAM_MATRIX ]] || skip_all "pam_matrix.so (pam_wrapper) not found"
	command -v setpriv >/dev/null || skip_all "setpriv (util-linux) not found"
	command -v oathtool >/dev/null || skip_all "oathtool not found"
	# The test users run the tools from the build tree: a tree under a
	# directory they cannot enter (root's 0700 home) fails every test.
	setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$ZM_ENROLL" ||
	    bail_out "the build tree is not reachable by other users ($ZM_ENROLL): the tests and the demo run the helpdesk tools as test users; put the source tree where others may enter (not under /root), or chmod o+x its parent directories"
	# A library path without a slash is found by the loader or not at all.
	if [[ $PAM_WRAPPER_LIB == */* ]]; then
		[[ -e $PAM_WRAPPER_LIB ]] || skip_all "$PAM_WRAPPER_LIB not found"
	elif ! ldconfig -p 2>/dev/null | grep -q 'libpam_wrapper\.so'; then
		skip_all "libpam_wrapper.so (pam_wrapper) not found"
	fi
}

_zm_write_nss() {
	local d=$ZM_DIR u
	{
		echo "root:x:0:0:root:/root:/bin/sh"
		for u in $ZM_USERS; do
			echo "$u:x:${ZM_UID[$u]}:${ZM_UID[$u]}:$u:/nonexistent:/bin/sh"
		done
	} >"$d/passwd"
	{
		echo "root:x:0:"
		for u in $ZM_USERS; do
			echo "$u:x:${ZM_UID[$u]}:"
		done
		echo "wheel:x:10:carol"
		echo "zonemfa-helpdesk:x:3001:hd1,hd2"
		echo "zonemfa-admin:x:3002:adm1"
	} >"$d/group"
	# pam_matrix: username:password:allowed_service.  Its auth phase
	# ignores the service column; only its account phase (unused) reads it.
	for u in $ZM_USERS; do
		echo "$u:$(password "$u"):lgwan"
	done >"$d/passdb"
	chmod 0644 "$d/passwd" "$d/group" "$d/passdb"
}

# write_conf FILE [extra lines for [tokend]]: the test configuration.
write_conf() {
	local f=$1 d=$ZM_DIR
	cat >"$f" <<EOF
# zonemfa.conf written by tests/lib.sh
[tokend]
socket = $d/tokend.sock
key_file = $d/registry.key
store = sqlite:$d/registry.db
audit_log = $d/audit.log
helpdesk_group = zonemfa-helpdesk
admin_group = zonemfa-admin
pcsc = no
fido = no

[terminal]
zone = lgwan
name = test-term

[zone lgwan]
require = knowledge possession
methods = card fido2 totp
password = stack
max_failures = 3
lockout = 30m
privileged_groups = wheel
privileged_max_failures = 2

[zone mynumber]
require = knowledge possession
methods = card fido2 totp
password = stack
max_failures = 3
lockout = 30m

[zone internet]
require = knowledge
methods =
password = stack

[zone strict]
require = knowledge possession
methods = totp
password = stack
max_failures = 3
lockout = helpdesk
EOF
	# Root-owned and not writable by others (zm_config_load refuses
	# that); readable, because the PAM module also runs as the user
	# (screen lockers), and the file holds no secret.
	chmod 0644 "$f"
}

# write_service NAME ZONE [CONF]: a PAM service file in $ZM_PAMD.
write_service() {
	local name=$1 zone=$2 conf=${3:-$ZM_CONF}
	local args="conf=$conf zone=$zone"
	cat >"$ZM_PAMD/$name" <<EOF
auth	requisite	$PAM_MATRIX passdb=$ZM_DIR/passdb
auth	required	$ZM_MODULE $args
account	required	$ZM_MODULE $args
session	required	$ZM_MODULE $args
EOF
}

zm_setup() {
	local z
	_zm_require
	ZM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/zm-it.XXXXXX") ||
	    bail_out "mktemp failed"
	# The test users must reach the socket, the config and the passdb.
	chmod 0755 "$ZM_DIR"
	ZM_CONF=$ZM_DIR/zonemfa.conf
	ZM_SOCK=$ZM_DIR/tokend.sock
	ZM_AUDIT_LOG=$ZM_DIR/audit.log
	ZM_PAMD=$ZM_DIR/pam.d
	mkdir -p "$ZM_PAMD"
	_zm_write_nss
	write_conf "$ZM_CONF"
	for z in $ZM_ZONES; do
		write_service "$z" "$z"
	done
	cat >"$ZM_PAMD/other" <<EOF
auth	required	pam_deny.so
account	required	pam_deny.so
session	required	pam_deny.so
EOF
	ZM_DAEMON_PID=""
	ZM_HELD_PIDS=""

	local asan
	asan=$(_zm_asan_rt "$ZM_MODULE" "$ZM_LOGIN" "$ZM_TOKEND" "$ZM_ENROLL")
	ZM_NSS_PRELOAD=$NSS_WRAPPER_LIB
	ZM_PAM_PRELOAD="$PAM_WRAPPER_LIB $NSS_WRAPPER_LIB"
	ZM_LOGIN_ENV=()
	if [[ -n $asan ]]; then
		ZM_NSS_PRELOAD="$asan $ZM_NSS_PRELOAD"
		ZM_PAM_PRELOAD="$asan $ZM_PAM_PRELOAD"
		# RTLD_DEEPBIND and ASan do not mix (TESTING.md).  Leaks in
		# libpam/pam_wrapper/pam_matrix are not ours: no leak check
		# for the wrapped login program (the daemon keeps it).
		ZM_LOGIN_ENV=(PAM_WRAPPER_DISABLE_DEEPBIND=1
		    "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
	fi
	export NSS_WRAPPER_PASSWD=$ZM_DIR/passwd
	export NSS_WRAPPER_GROUP=$ZM_DIR/group
	trap zm_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

zm_cleanup() {
	local p
	for p in $ZM_HELD_PIDS; do
		kill -KILL "$p" 2>/dev/null
	done
	if [[ -n ${ZM_DAEMON_PID:-} ]]; then
		kill -TERM "$ZM_DAEMON_PID" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$ZM_DAEMON_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$ZM_DAEMON_PID" 2>/dev/null
		ZM_DAEMON_PID=""
	fi
	if [[ -n ${ZM_DIR:-} && -d $ZM_DIR ]]; then
		if [[ ${ZM_KEEP:-0} == 1 ]]; then
			echo "# kept $ZM_DIR"
		else
			rm -rf "$ZM_DIR"
		fi
	fi
}

# ---------------------------------------------------------------- running

# zm_exec CMD...: CMD with nss_wrapper, as $ZM_AS when set, time-limited.
zm_exec() {
	local pre=()
	if [[ -n ${ZM_AS:-} ]]; then
		local uid=${ZM_UID[$ZM_AS]:-$ZM_AS}
		pre=(setpriv --reuid="$uid" --regid="$uid" --clear-groups --)
	fi
	timeout 30 "${pre[@]}" env LD_PRELOAD="$ZM_NSS_PRELOAD" "$@"
}

# as_user USER CMD...: run CMD (a binary or one of the functions here)
# as USER (name or uid), keeping the environment.
as_user() {
	local u=$1
	shift
	if [[ $(type -t "$1") == function ]]; then
		ZM_AS=$u "$@"
	else
		ZM_AS=$u zm_exec "$@"
	fi
}

zm_enroll() { zm_exec "$ZM_ENROLL" -c "$ZM_CONF" "$@"; }
zm_revoke() { zm_exec "$ZM_REVOKE" -c "$ZM_CONF" "$@"; }
zm_audit() { zm_exec "$ZM_AUDIT" -c "$ZM_CONF" "$@"; }
zm_tokend() { zm_exec "$ZM_TOKEND" "$@"; }

# _zm_login_env: the environment of zm-login, in _ZM_ENV.
_zm_login_env() {
	# pam_wrapper (1.1.4) copies the services to a directory /tmp/pam.X
	# (62 names, fixed under /tmp; PAM_WRAPPER_RUNTIME_DIR is what it
	# sets, not what it reads), picked with a race between processes:
	# ZM_PAM_WRAPPER=1 has zm-login set PAM_WRAPPER=1 itself, under a
	# lock shared by every test file (tests/zm-login.c).
	_ZM_ENV=(env LD_PRELOAD="$ZM_PAM_PRELOAD" ZM_PAM_WRAPPER=1
	    PAM_WRAPPER_SERVICE_DIR="$ZM_PAMD" "${ZM_LOGIN_ENV[@]}")
}

# run_login [--hold|--no-session|--no-account]... SERVICE USER ANSWERS...
# Runs zm-login through pam_wrapper with ANSWERS on stdin, one a line;
# output in OUT, status in RC.  Honours as_user.
run_login() {
	local opts=()
	while [[ ${1:-} == --* ]]; do
		opts+=("$1")
		shift
	done
	local svc=$1 user=$2
	shift 2
	local pre=()
	if [[ -n ${ZM_AS:-} ]]; then
		local uid=${ZM_UID[$ZM_AS]:-$ZM_AS}
		pre=(setpriv --reuid="$uid" --regid="$uid" --clear-groups --)
	fi
	_zm_login_env
	CMD="${ZM_AS:+[as $ZM_AS] }zm-login ${opts[*]} $svc $user <<< '$*'"
	if [[ $# -gt 0 ]]; then
		OUT=$(printf '%s\n' "$@" | timeout 30 "${pre[@]}" "${_ZM_ENV[@]}" \
		    "$ZM_LOGIN" "${opts[@]}" "$svc" "$user" 2>&1)
	else
		OUT=$(timeout 30 "${pre[@]}" "${_ZM_ENV[@]}" \
		    "$ZM_LOGIN" "${opts[@]}" "$svc" "$user" 2>&1 </dev/null)
	fi
	RC=$?
	return 0
}

# start_held [--OPT [ARG]]... SERVICE USER ANSWERS...: zm-login --hold in
# the background (options as zm-login's: --split, --wait-file PATH,
# --spawn CMD, --ignore-signals, --print-env).  Sets HELD_PID (the
# zm-login process) and HELD_OUT (its output file); returns 0 once it
# printed "SESSION OPEN", 1 if it exited or took > 5 s (HELD_WAIT=N: N s).
start_held() {
	local opts=()
	while [[ ${1:-} == --* ]]; do
		opts+=("$1")
		case $1 in
		--wait-file | --spawn | --tty | --rhost) opts+=("$2"); shift ;;
		esac
		shift
	done
	local svc=$1 user=$2
	shift 2
	HELD_OUT=$ZM_DIR/held.$RANDOM.out
	printf '%s\n' "$@" >"$HELD_OUT.in"
	_zm_login_env
	# env execs zm-login: $! is the process the session records.
	"${_ZM_ENV[@]}" "$ZM_LOGIN" --hold "${opts[@]}" "$svc" "$user" \
	    <"$HELD_OUT.in" >"$HELD_OUT" 2>&1 &
	HELD_PID=$!
	ZM_HELD_PIDS="$ZM_HELD_PIDS $HELD_PID"
	CMD="zm-login --hold ${opts[*]} $svc $user (background, pid $HELD_PID)"
	local i
	for i in $(seq $((${HELD_WAIT:-5} * 50))); do
		if grep -q 'SESSION OPEN' "$HELD_OUT"; then
			OUT=$(cat "$HELD_OUT")
			RC=running
			return 0
		fi
		kill -0 "$HELD_PID" 2>/dev/null || break
		sleep 0.02
	done
	OUT=$(cat "$HELD_OUT")
	RC="still running or exited"
	return 1
}

# wait_held [SECONDS]: wait for the held login to end; RC = its status.
wait_held() {
	local i n=$((${1:-5} * 50))
	for ((i = 0; i < n; i++)); do
		kill -0 "$HELD_PID" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$HELD_PID" 2>/dev/null; then
		OUT=$(cat "$HELD_OUT")
		RC="still running"
		return 1
	fi
	wait "$HELD_PID"
	RC=$?
	OUT=$(cat "$HELD_OUT")
	return 0
}

# ---------------------------------------------------------------- daemon

# start_daemon [ARGS...]: zonemfa-tokend -f -d -c $ZM_CONF, stderr to
# $ZM_DIR/tokend.log; waits (max 5 s) for the socket.
start_daemon() {
	local i
	rm -f "$ZM_SOCK"
	echo "=== start $(date +%T.%N)" >>"$ZM_DIR/tokend.log"
	env LD_PRELOAD="$ZM_NSS_PRELOAD" "$ZM_TOKEND" -f -d -c "$ZM_CONF" "$@" \
	    </dev/null >>"$ZM_DIR/tokend.log" 2>&1 &
	ZM_DAEMON_PID=$!
	CMD="zonemfa-tokend -f -d -c $ZM_CONF $*"
	OUT=""
	for i in $(seq 250); do
		[[ -S $ZM_SOCK ]] && { RC=0; return 0; }
		if ! kill -0 "$ZM_DAEMON_PID" 2>/dev/null; then
			wait "$ZM_DAEMON_PID"
			RC=$?
			ZM_DAEMON_PID=""
			return 1
		fi
		sleep 0.02
	done
	RC="no socket after 5 s"
	return 1
}

# stop_daemon: SIGTERM, wait (max 5 s); returns the daemon's exit status.
stop_daemon() {
	local pid=${ZM_DAEMON_PID:-} i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		ZM_DAEMON_PID=""
		return 124
	fi
	wait "$pid"
	i=$?
	ZM_DAEMON_PID=""
	return $i
}

# stop_daemon_ok: a TAP test that the daemon stops cleanly (exit 0, no
# sanitizer report in its log).
stop_daemon_ok() {
	local rc
	stop_daemon
	rc=$?
	CMD="kill -TERM zonemfa-tokend"
	RC=$rc
	OUT=""
	if [[ $rc -eq 0 ]] && ! grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' \
	    "$ZM_DIR/tokend.log"; then
		ok "daemon exits 0 on SIGTERM, no sanitizer report"
	else
		not_ok "daemon exits 0 on SIGTERM, no sanitizer report"
	fi
}

# ---------------------------------------------------------------- TOTP

# enroll_totp USER [VAR]: enrol a TOTP token for USER (operator hd1; adm1
# for the helpdesk's own accounts, root for adm1: staff accounts are
# handled by admin_group or root); the base32 secret goes to VAR or stdout.
enroll_totp() {
	local user=$1 var=${2:-} op=hd1 secret
	case $user in
	hd1 | hd2) op=adm1 ;;
	adm1 | root) op=root ;;
	esac
	ZM_AS=$op run zm_enroll totp "$user"
	secret=$(sed -n 's/^otpauth:\/\/totp\/.*[?&]secret=\([A-Z2-7]*\).*$/\1/p' <<<"$OUT" | head -n 1)
	if [[ $RC -ne 0 || -z $secret ]]; then
		[[ $RC -ne 0 ]] || RC="no secret in the URI"
		return 1
	fi
	if [[ -n $var ]]; then
		printf -v "$var" '%s' "$secret"
	else
		echo "$secret"
	fi
}

# totp_code SECRET [OFFSET_SECONDS]
totp_code() {
	if [[ -n ${2:-} && $2 != 0 ]]; then
		oathtool --totp -b --now "@$(($(date +%s) + $2))" "$1"
	else
		oathtool --totp -b "$1"
	fi
}

# wrong_code SECRET: a code that no step from -1 to +2 accepts.
wrong_code() {
	local c valid
	valid=" $(oathtool --totp -b -w 3 --now "@$(($(date +%s) - 30))" "$1" | tr '\n' ' ')"
	for c in 000000 111111 222222 333333 444444; do
		[[ $valid == *" $c "* ]] || { echo "$c"; return; }
	done
}

# zm_sql QUERY: rows of QUERY on the registry ($ZM_DB, default
# $ZM_DIR/registry.db), "|"-separated; python3's sqlite3 (no CLI needed).
zm_sql() {
	/usr/bin/python3 - "${ZM_DB:-$ZM_DIR/registry.db}" "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
for row in c.execute(sys.argv[2]):
    print("|".join(str(v) for v in row))
c.commit()
EOF
}

# ---------------------------------------------------------------- audit

# audit_count ERE...: number of audit records matching every ERE.
audit_count() {
	local f=$ZM_AUDIT_LOG e
	[[ -e $f ]] || { echo 0; return; }
	local data
	data=$(cat "$f")
	for e in "$@"; do
		data=$(grep -E -- "$e" <<<"$data")
	done
	if [[ -z $data ]]; then echo 0; else wc -l <<<"$data"; fi
}

# wait_audit N ERE...: wait (up to 5 s) until audit_count ERE... >= N.
# The daemon writes some records just after the event a test waits for
# (e.g. a session's end after its process has gone); slower under the
# sanitizers.  Returns 1 on time-out; the check that follows says what.
wait_audit() {
	local n=$1 i
	shift
	for i in $(seq 50); do
		[[ $(audit_count "$@") -ge $n ]] && return 0
		sleep 0.1
	done
	return 1
}

# jf KEY VALUE: an ERE for the JSON member "KEY":"VALUE".
# last_session_id USER: the id of USER's latest opened session ("" none).
last_session_id() {
	[[ -e $ZM_AUDIT_LOG ]] || return 0
	grep -E "$(jf event session_open)" "$ZM_AUDIT_LOG" |
	    grep -E "$(jf user "$1")" | grep -E "$(jf result ok)" | tail -n 1 |
	    sed -n 's/.*"detail": \{0,1\}"session \([0-9]*\)[ ":].*/\1/p'
}

# end_records SID: the number of records that end session SID
# (session_close by the client, session_end by the daemon): one session,
# one end record.
end_records() {
	audit_count '"event": ?"session_(close|end)"' "\"detail\": ?\"session $1[ :\"]"
}

jf() {
	echo "\"$1\": ?\"$2\""
}

# hhmm OFFSET_SECONDS: local HH:MM at now + offset.
hhmm() {
	date -d "@$(($(date +%s) + $1))" +%H:%M
}
