#!/bin/bash
# it_sshd.sh - the real OpenSSH sshd and ssh client (R5, issue 9): sshd
# authenticates in a forked child and opens the session in its monitor,
# so this is where the ticket has to cross processes for real.
#
# The test re-runs itself in a private mount namespace (unshare, as root)
# and bind-mounts private copies of /etc/passwd, /etc/group, /etc/shadow
# (the test users with real password hashes) and /etc/pam.d (an "sshd"
# and a "su" service: pam_unix + pam_zonemfa.so from the build tree, the
# README's stack), a fresh tmpfs on /run (sshd's /run/sshd and utmp; no
# nscd, logind or userdb socket of the host) and empty wtmp/lastlog/btmp:
# nothing of the system's changes.  sshd runs with its own config, host
# key and loopback port; the daemon runs in the same namespace (it must
# see the same users); expect drives ssh and su like a person.
#
# - password + TOTP over ssh opens a shell and shows the last-login line;
#   a replayed code and a wrong code are refused;
# - the session is recorded with the token that opened it;
# - revoking the token ends the live ssh session: the client exits, the
#   shell and its background job are gone, revoke says "sessions ended: 1";
#   the time from revoke to the session's end is printed (# lines);
#   the registry closes it as revoked, not as a logout (sshd's monitor
#   runs pam_close_session on the SIGHUP while the daemon ends it);
# - known gap, TAP TODO: without logind, a process the user detached with
#   setsid -f (own process session, re-parented to init) survives;
# - a refusal's words reach the ssh client (its language and escaping are
#   printed: sshd never calls setlocale(), ssh's logit() octal-escapes);
# - the same revocation for su(1) (util-linux) with a command running.
# The sanitizer build skips it (libasan cannot go into the system's sshd).
. "$(dirname "$0")/lib.sh"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)

if [[ -z ${ZM_SSHD_NS:-} ]]; then
	[[ $(id -u) -eq 0 ]] ||
	    skip_all "needs root: runs the real sshd in a private mount namespace with its own /etc/passwd, /etc/shadow and /etc/pam.d (CI runs as root)"
	for t in "$SSHD" ssh ssh-keygen expect unshare openssl python3 su vlock; do
		command -v "$t" >/dev/null ||
		    skip_all "$t not found (packages openssh-server openssh-client expect util-linux openssl python3 vlock; scripts/check installs them)"
	done
	# Seen with the sanitizer build: libasan preloaded into the system's
	# uninstrumented sshd leaves glibc's gettext lock (_nl_state_lock)
	# with an underflowed reader count in sshd's monitor, and the PAM
	# child it forks hangs in pam_zonemfa's bindtextdomain().
	[[ -z $(_zm_asan_rt "$ZM_MODULE") ]] ||
	    skip_all_env "sanitizer build: the ASan runtime cannot be preloaded into the system's sshd (its PAM child deadlocks in bindtextdomain); the plain build runs this test"
	err=$(unshare --mount --propagation private true 2>&1) ||
	    skip_all "cannot make a private mount namespace (unshare --mount): $err"
	ZM_SSHD_NS=1 exec unshare --mount --propagation private -- \
	    bash "$0" "$@"
	bail_out "cannot exec unshare"
fi

zm_setup
DB=$ZM_DIR/registry.db
ETC=$ZM_DIR/etc
SSHDIR=$ZM_DIR/ssh
SSHD_PID=""
EXP_PIDS=""

sshd_cleanup() {
	local p
	for p in $EXP_PIDS; do
		kill -KILL "$p" 2>/dev/null
	done
	if [[ -n $SSHD_PID ]]; then
		kill -TERM "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	if [[ ${ZM_KEEP:-0} == 1 && -s $ZM_DIR/sshd.log ]]; then
		echo "# sshd log: $ZM_DIR/sshd.log"
	fi
	zm_cleanup
}
trap sshd_cleanup EXIT

# Real accounts, not nss_wrapper: sshd, su and the daemon all read the
# bind-mounted files.
unset NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
ZM_NSS_PRELOAD=""

# --- the private /etc --------------------------------------------------
mkdir -p "$ETC/pam.d" "$ZM_DIR/home" "$ZM_DIR/log" "$SSHDIR"
names="${ZM_USERS// /|}|wheel|zonemfa-helpdesk|zonemfa-admin"
today=$(($(date +%s) / 86400))
{
	grep -Ev "^($names):" /etc/passwd
	for u in $ZM_USERS; do
		echo "$u:x:${ZM_UID[$u]}:${ZM_UID[$u]}:$u:$ZM_DIR/home/$u:/bin/sh"
	done
} >"$ETC/passwd"
{
	grep -Ev "^($names):" /etc/shadow
	for u in $ZM_USERS; do
		echo "$u:$(openssl passwd -6 "$(password "$u")"):$today:0:99999:7:::"
	done
} >"$ETC/shadow"
{
	grep -Ev "^($names):" /etc/group
	for u in $ZM_USERS; do
		echo "$u:x:${ZM_UID[$u]}:"
	done
	echo "wheel:x:3010:carol"
	echo "zonemfa-helpdesk:x:3001:hd1,hd2"
	echo "zonemfa-admin:x:3002:adm1"
} >"$ETC/group"
chmod 0644 "$ETC/passwd" "$ETC/group"
chmod 0640 "$ETC/shadow"
for u in $ZM_USERS; do
	install -d -m 0755 -o "${ZM_UID[$u]}" -g "${ZM_UID[$u]}" "$ZM_DIR/home/$u"
done

# The README's stack (contrib/pam.d/zonemfa-lgwan) with the module from
# the build tree and the test configuration.
zm_stack() {
	local args="conf=$ZM_CONF zone=lgwan"
	cat <<EOF
auth      requisite  pam_unix.so
auth      required   $ZM_MODULE $args
@include common-account
account   required   $ZM_MODULE $args
@include common-password
@include common-session
session   required   $ZM_MODULE $args
EOF
}
zm_stack >"$ETC/pam.d/sshd"
{
	echo "auth      sufficient pam_rootok.so"
	zm_stack
} >"$ETC/pam.d/su"
# vlock(1): authentication only (it opens no session).
{
	echo "auth      requisite  pam_unix.so"
	echo "auth      required   $ZM_MODULE conf=$ZM_CONF zone=lgwan"
} >"$ETC/pam.d/vlock"
cat >"$ETC/pam.d/other" <<EOF
auth	required	pam_deny.so
account	required	pam_deny.so
password	required	pam_deny.so
session	required	pam_deny.so
EOF
for f in common-account common-password common-session; do
	if [[ -e /etc/pam.d/$f ]]; then
		cp "/etc/pam.d/$f" "$ETC/pam.d/$f"
	else
		echo "$f: required pam_permit.so" | sed 's/^common-\([a-z]*\):/\1/' \
		    >"$ETC/pam.d/$f"
	fi
done

ns_mount() {
	mount "$@" || bail_out "mount $* failed"
}
ns_mount --bind "$ETC/passwd" /etc/passwd
ns_mount --bind "$ETC/group" /etc/group
ns_mount --bind "$ETC/shadow" /etc/shadow
ns_mount --bind "$ETC/pam.d" /etc/pam.d
ns_mount -t tmpfs -o mode=0755 zm-run /run
install -d -m 0755 /run/sshd
install -m 0664 -g utmp /dev/null /run/utmp 2>/dev/null ||
    install -m 0644 /dev/null /run/utmp
for f in wtmp btmp lastlog; do
	if [[ -e /var/log/$f ]]; then
		: >"$ZM_DIR/log/$f"
		chown --reference="/var/log/$f" "$ZM_DIR/log/$f"
		chmod --reference="/var/log/$f" "$ZM_DIR/log/$f"
		ns_mount --bind "$ZM_DIR/log/$f" "/var/log/$f"
	fi
done
check "the namespace sees the test users (getent passwd alice)" \
    test "$(getent passwd alice | cut -d: -f3)" = "${ZM_UID[alice]}"

# --- sshd ---------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C zm-it -f "$SSHDIR/host_ed25519" ||
    bail_out "ssh-keygen failed"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$SSHDIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $SSHDIR/host_ed25519
PidFile $SSHDIR/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
AuthenticationMethods keyboard-interactive
PermitRootLogin no
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
AllowUsers alice bob carol
LogLevel VERBOSE
EOF
"$SSHD" -D -e -f "$SSHDIR/sshd_config" -p "$PORT" \
    </dev/null >"$ZM_DIR/sshd.log" 2>&1 &
SSHD_PID=$!
for i in $(seq 250); do
	grep -q 'Server listening on' "$ZM_DIR/sshd.log" && break
	kill -0 "$SSHD_PID" 2>/dev/null || break
	sleep 0.02
done
grep -q 'Server listening on' "$ZM_DIR/sshd.log" ||
    bail_out "sshd did not start: $(tail -n 5 "$ZM_DIR/sshd.log")"

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_A || bail_out "cannot enrol alice: $OUT"

export ZM_SSH_PORT=$PORT
export ZM_SSH_HOME=$ZM_DIR/client
mkdir -p "$ZM_SSH_HOME"
EXP=$_zm_here/ssh_login.exp

sql() { ZM_DB=${DB:-} zm_sql "$1"; }

# ssh_once USER PASSWORD CODE: log in, log out; OUT, RC.
ssh_once() {
	CMD="ssh $1@127.0.0.1 -p $PORT (expect, password, code $3)"
	OUT=$(HOME=$ZM_SSH_HOME LANG=${ZM_SSH_LANG:-C.UTF-8} timeout 60 \
	    expect -f "$EXP" once "$1" "$2" "$3" 2>&1)
	RC=$?
	OUT=${OUT//$'\r'/}
}

# ssh_live USER PASSWORD CODE [DETACH]: a live session in the background; returns
# once its shell runs.  LIVE_OUT (output file), LIVE_PIDS (file: shell,
# job, ssh client), EXP_PID.
ssh_live() {
	LIVE_OUT=$ZM_DIR/live.$RANDOM
	LIVE_PIDS=$LIVE_OUT.pids
	CMD="ssh $1@127.0.0.1 -p $PORT (expect, live session)"
	HOME=$ZM_SSH_HOME LANG=C.UTF-8 expect -f "$EXP" live "$1" "$2" "$3" \
	    "$LIVE_PIDS" ${4:-} >"$LIVE_OUT" 2>&1 &
	EXP_PID=$!
	EXP_PIDS="$EXP_PIDS $EXP_PID"
	for i in $(seq 1000); do
		[[ -s $LIVE_PIDS ]] && break
		kill -0 "$EXP_PID" 2>/dev/null || break
		sleep 0.02
	done
	OUT=$(tr -d '\r' <"$LIVE_OUT")
	[[ -s $LIVE_PIDS ]] || { RC="no shell"; return 1; }
	RC=running
	return 0
}

# gone PID...: none of them runs (or each is a zombie).
gone() {
	local p st
	for p in "$@"; do
		st=$(awk '{ sub(/.*\) /, ""); print substr($0, 1, 1) }' \
		    "/proc/$p/stat" 2>/dev/null)
		[[ -z $st || $st == Z ]] || return 1
	done
	return 0
}

# todo_not_ok DESC REASON: a known gap (TAP TODO: automake's XFAIL; an
# XPASS once it is closed).
todo_not_ok() {
	_zm_n=$((_zm_n + 1))
	echo "not ok $_zm_n - $1 # TODO $2"
	show_last
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# --- 1. password + TOTP over ssh ----------------------------------------
code1=$(totp_code "$S_A")
ssh_once alice "$(password alice)" "$code1"
expect_rc 0 "password + TOTP login over the real ssh/sshd opens a shell"
expect_match 'EXP: shell' "alice reaches her shell prompt"
expect_match '(This is your first login|Last login: )' \
    "the session shows the last-login line over ssh"
expect_match 'EXP: ticket in the session: none' \
    "the ticket is not in the ssh session's environment"
check "R5: the ssh session was recorded with alice's token (and closed at logout)" \
    test "$(sql "SELECT token_id FROM sessions WHERE user = 'alice' AND service = 'sshd'")" = \
    "$(sql "SELECT id FROM tokens WHERE user = 'alice' AND state = 0")"

# --- 2. a replayed and a wrong code --------------------------------------
ssh_once alice "$(password alice)" "$code1"
expect_rc 1 "the same code again (replay) is refused"
expect_no_match 'EXP: shell' "no shell after a replayed code"
ssh_once alice "$(password alice)" "$(wrong_code "$S_A")"
expect_rc 1 "a wrong code is refused"
expect_match 'Wrong one-time code' "the refusal says the code was wrong"
if grep -q '\\342\\200' <<<"$OUT"; then
	diag "sshd's refusals reach the client octal-escaped (\\342\\200\\224 for an em dash)"
fi

# --- 3. revocation ends a live ssh session (and how fast) ----------------
times=()
for run in 1 2 3; do
	if [[ $run -gt 1 ]]; then
		enroll_totp alice S_A || bail_out "cannot enrol alice again: $OUT"
		code=$(totp_code "$S_A")
	else
		code=$(totp_code "$S_A" 30)
	fi
	detach=""
	[[ $run -eq 1 ]] && detach=$((280 + RANDOM % 10))
	if ssh_live alice "$(password alice)" "$code" $detach; then
		ok "run $run: alice's live ssh session runs a shell and a background job"
	else
		not_ok "run $run: alice's live ssh session runs a shell and a background job"
		continue
	fi
	read -r sh_pid job_pid ssh_pid <"$LIVE_PIDS"
	if [[ $run -eq 1 ]]; then
		expect_match 'Last login: .* from 127\.0\.0\.1.*2 failed attempts since' \
		    "the last-login line names the previous ssh login and the 2 failures"
		expect_match 'EXP: ticket in the session: none' \
		    "the ticket is not in the live session's environment"
		row=$(sql "SELECT token_id, pid FROM sessions WHERE user = 'alice' AND closed = 0")
		tok=$(sql "SELECT id FROM tokens WHERE user = 'alice' AND state = 0")
		check "R5: the live ssh session is recorded with alice's token ($tok)" \
		    test "${row%%|*}" = "$tok"
		spid=${row#*|}
		detached=$(pgrep -u alice -f "^sleep $detach\$")
		EXP_PIDS="$EXP_PIDS $detached"
		diag "registered PID $spid: $(tr '\0' ' ' <"/proc/$spid/cmdline" 2>/dev/null)" \
		    "shell $sh_pid ($(tr '\0' ' ' <"/proc/$sh_pid/cmdline" 2>/dev/null)), parent $(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$sh_pid/stat" 2>/dev/null)"
	fi
	t0=$(now_ms)
	run as_user hd1 zm_revoke --user alice --all --reason lost
	t1=$(now_ms)
	expect_rc 0 "run $run: hd1 revokes alice's token"
	expect_match '^sessions ended: 1$' "run $run: revoke reports the ssh session ended"
	for i in $(seq 500); do
		kill -0 "$EXP_PID" 2>/dev/null || break
		sleep 0.01
	done
	t2=$(now_ms)
	OUT=$(tr -d '\r' <"$LIVE_OUT")
	CMD="ssh live session (pids shell $sh_pid, job $job_pid, ssh $ssh_pid)"
	if ! kill -0 "$EXP_PID" 2>/dev/null && grep -q 'EXP: ended' <<<"$OUT"; then
		ok "run $run: the ssh client exits when the token is revoked"
	else
		not_ok "run $run: the ssh client exits when the token is revoked"
	fi
	if gone "$sh_pid" "$job_pid" "$ssh_pid"; then
		ok "run $run: the user's shell and its background sleep are gone"
	else
		not_ok "run $run: the user's shell and its background sleep are gone"
	fi
	if [[ $run -eq 1 ]]; then
		OUT="detached: pid ${detached:-?}: $(ps -o pid=,ppid=,sid=,user=,args= -p "${detached:-0}" 2>/dev/null)"
		CMD="setsid -f sleep $detach in the ssh session"
		if [[ -n $detached ]] && gone $detached; then
			ok "run 1: a process detached with setsid -f is ended too"
		else
			todo_not_ok "run 1: a process detached with setsid -f is ended too" \
			    "without logind, a process in a process session of its own, re-parented to init, is out of the daemon's reach"
		fi
		[[ -n $detached ]] && kill -KILL $detached 2>/dev/null
	fi
	times+=("revoke $((t1 - t0)) ms, client gone $((t2 - t0)) ms")
done
diag "revoke -> ssh session gone (3 runs): ${times[*]/%/;}"
check "R5: no ssh session of alice is left open in the registry" \
    test "$(sql "SELECT count(*) FROM sessions WHERE user = 'alice' AND closed = 0")" -eq 0
check "R15: each ended ssh session is audited" \
    test "$(audit_count "$(jf event session_end)" "$(jf user alice)" "$(jf result ok)" 'revoked:lost')" -eq 3
# sshd's monitor closes its PAM session when the SIGHUP reaches it, while
# the daemon is still ending that session: no logout.
check "the registry says the revocation ended the 3 ssh sessions (not a logout)" \
    test "$(sql "SELECT count(*) FROM sessions WHERE user = 'alice' AND close_reason = 'revoked:lost'")" -eq 3
check "R15: no 'logout' is audited for them (only the first session's)" \
    test "$(audit_count "$(jf event session_close)" "$(jf user alice)")" -eq 1

# --- 4. a refusal with words: how it reaches the ssh client -------------
# alice's tokens are all revoked now.  The client asks for Japanese; the
# module runs inside sshd, which never calls setlocale().
ZM_SSH_LANG=ja_JP.UTF-8 ssh_once alice "$(password alice)" 123456
expect_rc 1 "alice (every token revoked) is refused over ssh"
expect_match '(revoked|No token|失効|トークン).*(helpdesk|ヘルプデスク)' \
    "the refusal says why over ssh (token revoked or none, contact the helpdesk)"
lang=English
grep -Eq '(失効|ヘルプデスク|トークン)' <<<"$OUT" && lang=Japanese
esc="as UTF-8"
grep -q '\\342\\200\\224' <<<"$OUT" && esc='octal-escaped (\342\200\224 for the em dash)'
diag "over ssh (client LANG=ja_JP.UTF-8) the refusal arrives in $lang, $esc:" \
    "  $(grep -E 'revoked|No token|helpdesk|ヘルプデスク' <<<"$OUT" | head -n 1)"

# --- 5. su(1) with a command running, ended by the revocation -----------
if ! enroll_totp carol S_C; then
	not_ok "carol gets a token for the su test"
else
	SU_OUT=$ZM_DIR/su.out
	install -d -m 0700 -o "${ZM_UID[bob]}" "$ZM_DIR/su"
	SU_PIDS=$ZM_DIR/su/pids
	# bob runs su (set-uid root) to become carol: her password and code.
	setpriv --reuid="${ZM_UID[bob]}" --regid="${ZM_UID[bob]}" --init-groups \
	    env HOME="$ZM_DIR/home/bob" LANG=C.UTF-8 expect -f "$_zm_here/su_cmd.exp" \
	    carol "$(password carol)" "$(totp_code "$S_C")" "$SU_PIDS" \
	    >"$SU_OUT" 2>&1 &
	EXP_PID=$!
	EXP_PIDS="$EXP_PIDS $EXP_PID"
	for i in $(seq 1000); do
		[[ -s $SU_PIDS ]] && break
		kill -0 "$EXP_PID" 2>/dev/null || break
		sleep 0.02
	done
	OUT=$(tr -d '\r' <"$SU_OUT")
	CMD="[as bob] su carol -c 'sleep 300 & ...; wait' (expect)"
	RC=$([[ -s $SU_PIDS ]] && echo running || echo "no command")
	if [[ -s $SU_PIDS ]]; then
		ok "bob's su to carol (password + TOTP) runs her command"
		read -r sh_pid job_pid su_pid <"$SU_PIDS"
		tok=$(sql "SELECT id FROM tokens WHERE user = 'carol' AND state = 0")
		check "R5: the su session is recorded with carol's token ($tok)" \
		    test "$(sql "SELECT token_id FROM sessions WHERE user = 'carol' AND service = 'su' AND closed = 0")" = "$tok"
		t0=$(now_ms)
		run as_user hd1 zm_revoke --user carol --all --reason lost
		t1=$(now_ms)
		expect_match '^sessions ended: 1$' "R5: revoking carol's token ends the su session"
		for i in $(seq 500); do
			kill -0 "$EXP_PID" 2>/dev/null || break
			sleep 0.01
		done
		t2=$(now_ms)
		OUT=$(tr -d '\r' <"$SU_OUT")
		CMD="su session (pids shell $sh_pid, job $job_pid, su $su_pid)"
		if gone "$sh_pid" "$job_pid" "$su_pid"; then
			ok "no process of the su session survives (su, the command, its job)"
		else
			not_ok "no process of the su session survives (su, the command, its job)"
		fi
		diag "revoke -> su session gone: revoke $((t1 - t0)) ms, su gone $((t2 - t0)) ms"
		check "the registry says the revocation ended the su session (not a logout)" \
		    test "$(sql "SELECT close_reason FROM sessions WHERE user = 'carol' AND service = 'su'")" = revoked:lost
	else
		not_ok "bob's su to carol (password + TOTP) runs her command"
	fi
fi

# --- 6. vlock(1), the console screen locker ------------------------------
# vlock-main is set-uid root and asks PAM for the user who locked (its
# real uid): a wrong code leaves the console locked, the right one
# unlocks it, and once the token is revoked nothing from it unlocks.
# vlock_as USER PASSWORD CODE: OUT, RC (0 unlocked, 1 still locked).
vlock_as() {
	local u=$1
	shift
	CMD="[as $u] vlock -c (expect; password, code $2)"
	OUT=$(setpriv --reuid="${ZM_UID[$u]}" --regid="${ZM_UID[$u]}" \
	    --init-groups env HOME="$ZM_DIR/home/$u" LANG=C.UTF-8 \
	    timeout 90 expect -f "$_zm_here/vlock.exp" "$@" 2>&1)
	RC=$?
	OUT=${OUT//$'\r'/}
	# A locker left behind by a failed expect run (it ignores SIGHUP).
	pkill -KILL -U "${ZM_UID[$u]}" -x vlock-main 2>/dev/null
}
if ! enroll_totp bob S_B; then
	not_ok "bob gets a token for the vlock test"
else
	vlock_as bob "$(password bob)" "$(wrong_code "$S_B")"
	expect_rc 1 "R13: a wrong code does not unlock bob's console (vlock)"
	check "R15: the locker's wrong code is audited as bob's failure" \
	    test "$(audit_count "$(jf event auth)" "$(jf user bob)" "$(jf result fail)")" -ge 1
	vlock_as bob "$(password bob)" "$(totp_code "$S_B")"
	expect_rc 0 "bob unlocks his console with password + TOTP (vlock)"
	run as_user hd1 zm_revoke --user bob --all --reason lost
	expect_rc 0 "bob's token is revoked"
	# A code of the next step: not a replay, only the revocation refuses it.
	vlock_as bob "$(password bob)" "$(totp_code "$S_B" 30)"
	expect_rc 1 "R5: a revoked token does not unlock the console (vlock)"
	check "R5: the refusal names the revoked token" \
	    test "$(audit_count "$(jf event auth)" "$(jf user bob)" "$(jf result fail)" 'revoked')" -ge 1
fi

stop_daemon_ok
done_testing
