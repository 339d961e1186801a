#!/bin/bash
# it_session_bind.sh - R5: a revoked token ends every session it opened,
# across races, split clients and crashes; R15: the registry and the
# audit log agree after a crash.
#
# - a client that pauses between auth and session and opens its session
#   after the revocation (or the disable, or a daemon restart) is refused;
# - a client that authenticates in a child and opens the session in the
#   parent (sshd) gets its token recorded and the last-login line, and the
#   ticket never reaches the session's environment;
# - ending a session ends all of it: the shell in its own process session,
#   its background jobs (also once re-parented to init), processes that
#   ignore SIGHUP and SIGTERM;
# - a daemon killed while a revocation ends a session finishes the job at
#   start-up; a repeated revocation succeeds and ends what is left;
# - a revocation in the registry without its audit record is recorded at
#   start-up (and only once).
. "$(dirname "$0")/lib.sh"
zm_setup

DB=$ZM_DIR/registry.db

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_A || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_B || bail_out "cannot enrol bob: $OUT"
enroll_totp carol S_C || bail_out "cannot enrol carol: $OUT"

# pids_gone FILE [SECONDS]: every PID listed in FILE has exited (or is a
# zombie) within SECONDS (default 5).
pids_gone() {
	local f=$1 n=$((${2:-5} * 50)) i pid st left
	for ((i = 0; i < n; i++)); do
		left=""
		while read -r pid; do
			[[ -n $pid ]] || continue
			st=$(awk '{ sub(/.*\) /, ""); print substr($0, 1, 1) }' \
			    "/proc/$pid/stat" 2>/dev/null)
			[[ -n $st && $st != Z ]] && left="$left $pid"
		done <"$f"
		[[ -z $left ]] && return 0
		sleep 0.02
	done
	OUT="still running:$left"
	return 1
}

sql() { ZM_DB=${DB:-} zm_sql "$1"; }

# --- 1. A paused client opens its session after the revocation ---------
rm -f "$ZM_DIR/go1"
HELD_WAIT=1 start_held --wait-file "$ZM_DIR/go1" lgwan alice \
    "$(password alice)" "$(totp_code "$S_A")"
check "the paused client authenticated (auth and account done, session not yet)" \
    grep -q '^account: PAM_SUCCESS' "$HELD_OUT"
run as_user hd1 zm_revoke --user alice --all --reason lost
expect_rc 0 "R5: hd1 revokes alice's token while her client waits"
expect_match '^sessions ended: 0$' "no session of alice's is open yet"
touch "$ZM_DIR/go1"
if wait_held 5; then
	ok "the paused client went on"
else
	not_ok "the paused client went on"
fi
expect_match '^session: PAM_SESSION_ERR' \
    "R5: the session opened after the revocation is refused"
expect_match '[Rr]evoked' "the refusal says the token was revoked"
expect_no_match 'SESSION OPEN' "no session is held open"
check "R15: the refused session_open is audited with its reason" \
    test "$(audit_count "$(jf event session_open)" "$(jf user alice)" \
    "$(jf result refused)" 'revoked since the login')" -eq 1
check "R5: the registry has no open session of alice" \
    test "$(sql "SELECT count(*) FROM sessions WHERE user = 'alice' AND closed = 0")" -eq 0

# --- 2. ... or after the user was disabled ------------------------------
rm -f "$ZM_DIR/go2"
HELD_WAIT=1 start_held --wait-file "$ZM_DIR/go2" lgwan carol \
    "$(password carol)" "$(totp_code "$S_C")"
run as_user hd1 zm_enroll disable carol
expect_rc 0 "hd1 disables carol while her client waits"
touch "$ZM_DIR/go2"
wait_held 5
expect_match '^session: PAM_SESSION_ERR' \
    "R5: the session opened after the disable is refused"
run as_user hd1 zm_enroll enable carol
expect_rc 0 "hd1 enables carol again"

# --- 3. ... or after a daemon restart lost its ticket ---------------------
rm -f "$ZM_DIR/go3"
HELD_WAIT=1 start_held --wait-file "$ZM_DIR/go3" lgwan bob \
    "$(password bob)" "$(totp_code "$S_B")"
stop_daemon
start_daemon || bail_out "zonemfa-tokend did not restart"
touch "$ZM_DIR/go3"
wait_held 5
expect_match '^session: PAM_SESSION_ERR' \
    "R5: a session whose ticket the restart lost is refused, not opened without its token"
expect_match 'log in again' "the refusal asks to log in again"
check "the registry has no token-less session of bob" \
    test "$(sql "SELECT count(*) FROM sessions WHERE user = 'bob' AND closed = 0")" -eq 0

# --- 4. sshd's split: auth in a child, the session in the parent ---------
if start_held --split --print-env lgwan bob "$(password bob)" \
    "$(totp_code "$S_B" 30)"; then
	ok "split client (auth in a child, session in the parent): session open"
else
	not_ok "split client (auth in a child, session in the parent): session open"
fi
expect_match '^INFO: .*(Last login|前回|first|初めて)' \
    "the split client shows the last-login line"
expect_no_match 'ENV: ZONEMFA_TICKET' \
    "the ticket is not left in the session's PAM environment"
tok_b=$(sql "SELECT id FROM tokens WHERE user = 'bob' AND state = 0")
check "R5: the split client's session is recorded with bob's token ($tok_b)" \
    test "$(sql "SELECT token_id FROM sessions WHERE user = 'bob' AND closed = 0")" = "$tok_b"
run as_user hd1 zm_revoke --user bob --all --reason stolen
expect_rc 0 "hd1 revokes bob's token"
expect_match '^sessions ended: 1$' "R5: the revocation ends the split client's session"
wait_held 5
expect_match 'SESSION ENDED' "the split client's session holder was signalled"

# --- 5. Ending a session ends all of it ---------------------------------
enroll_totp alice S_D || bail_out "cannot enrol alice's new token: $OUT"
P=$ZM_DIR/tree.pids
rm -f "$P"
# The "shell" in a process session of its own, a job that ignores HUP and
# TERM, and one left behind by a subshell (re-parented to init).
spawn='echo $$ >>'"$P"'; (trap "" HUP TERM; exec sleep 300) & echo $! >>'"$P"'; sh -c "sleep 300 & echo \$! >>'"$P"'"; wait'
if start_held --spawn "$spawn" lgwan alice "$(password alice)" \
    "$(totp_code "$S_D")"; then
	ok "alice's session is open with a shell and jobs"
else
	not_ok "alice's session is open with a shell and jobs"
fi
for i in $(seq 100); do [[ $(wc -l <"$P" 2>/dev/null) -ge 3 ]] && break; sleep 0.02; done
check "the session's shell and its two jobs are running" \
    test "$(wc -l <"$P")" -eq 3
run as_user hd1 zm_revoke --user alice --all --reason lost
expect_rc 0 "R5: revoke exits 0 (no false 'could not end')"
expect_match '^sessions ended: 1$' "R5: revoke reports the session ended"
if pids_gone "$P" 1; then
	ok "R5: no process of the session survives (shell, HUP/TERM-proof job, orphaned job)"
else
	not_ok "R5: no process of the session survives (shell, HUP/TERM-proof job, orphaned job)"
fi
check "R15: the session's end is audited ok" \
    test "$(audit_count "$(jf event session_end)" "$(jf user alice)" "$(jf result ok)")" -eq 1

# --- 6. A crash during the revocation: the restart finishes it ----------
if start_held --ignore-signals lgwan carol "$(password carol)" \
    "$(totp_code "$S_C" 30)"; then
	ok "carol's session is open (a program that ignores SIGHUP and SIGTERM)"
else
	not_ok "carol's session is open (a program that ignores SIGHUP and SIGTERM)"
fi
echo "$HELD_PID" >"$ZM_DIR/carol.pids"
as_user hd1 zm_revoke --user carol --all --reason lost >"$ZM_DIR/carol.revoke" 2>&1 &
rpid=$!
# The registry and the log have it (the record follows the registry);
# the daemon is now waiting for the session to end (SIGTERM comes after
# 2 s, SIGKILL after 4 s): kill it first.
for i in $(seq 500); do
	grep -q '"event": *"revoke".*"user": *"carol"' "$ZM_AUDIT_LOG" && break
	sleep 0.01
done
kill -KILL "$ZM_DAEMON_PID"
wait "$ZM_DAEMON_PID" 2>/dev/null
ZM_DAEMON_PID=""
wait "$rpid"
check "the daemon was killed while ending carol's session (still running)" \
    kill -0 "$HELD_PID"
start_daemon || bail_out "zonemfa-tokend did not restart after kill -9"
if pids_gone "$ZM_DIR/carol.pids" 10; then
	ok "R5: after the restart, the revoked token's session is ended"
else
	not_ok "R5: after the restart, the revoked token's session is ended"
fi
wait_audit 1 "$(jf event session_end)" "$(jf user carol)" "$(jf result ok)"
check "R15: the ending is audited with the revocation's reason" \
    test "$(audit_count "$(jf event session_end)" "$(jf user carol)" "$(jf result ok)" 'revoked:lost')" -eq 1
check "the registry closed carol's session" \
    test "$(sql "SELECT count(*) FROM sessions WHERE user = 'carol' AND closed = 0")" -eq 0
# A repeated revocation succeeds (nothing new to revoke, nothing left).
run as_user hd1 zm_revoke --user carol --all --reason lost
expect_rc 0 "R5: repeating the revocation succeeds"
expect_match '^already revoked: tokens [0-9]+ of carol$' "it says the token was revoked already"
expect_match '^sessions ended: 0$' "and that no session was left"
run as_user hd1 zm_revoke --user nosuch --all --reason lost
expect_rc 1 "a revoke matching no token at all still fails"

# --- 7. A revocation the audit log missed is recorded at start-up -------
enroll_totp bob S_F || bail_out "cannot enrol bob's new token: $OUT"
tok_f=$(sql "SELECT id FROM tokens WHERE user = 'bob' AND state = 0")
stop_daemon
# The state a kill -9 between the registry and the audit log leaves.
sql "UPDATE tokens SET state = 1, revoked_at = strftime('%s','now'), revoke_reason = 'stolen', audit_pending = 1 WHERE id = $tok_f" >/dev/null
before=$(audit_count "$(jf event revoke)" "$(jf user bob)")
start_daemon || bail_out "zonemfa-tokend did not restart"
check "R15: the missed revocation is in the audit log after the restart" \
    test "$(audit_count "$(jf event revoke)" "$(jf user bob)" 'recovered at start-up')" -eq 1
check "the registry's audit mark is cleared" \
    test "$(sql "SELECT audit_pending FROM tokens WHERE id = $tok_f")" -eq 0
stop_daemon
start_daemon || bail_out "zonemfa-tokend did not restart"
check "a second restart does not record it again" \
    test "$(audit_count "$(jf event revoke)" "$(jf user bob)")" -eq $((before + 1))
check "normal revocations leave no audit mark behind" \
    test "$(sql "SELECT count(*) FROM tokens WHERE audit_pending <> 0")" -eq 0
run zm_audit verify
expect_rc 0 "R15: the audit chain verifies"

stop_daemon_ok
done_testing
