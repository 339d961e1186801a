#!/bin/bash
# it_limits.sh - R9 privileged IDs: the daemon ends a privileged user's
# session when the zone's privileged_session_limit runs out, also across
# a daemon restart; ordinary users' sessions are not limited by it.
# R13 access time-out: session_limit ends everyone's sessions of a zone
# (mynumber here); a session under its zone's limit stays; for a
# privileged user the shorter of the two limits applies.  idle_timeout
# applies only to sessions with a logind id: here (no logind) a 1 s
# idle_timeout must end nothing, also at the full sweep of a restart.
# (The logind query itself is tested only under systemd: not here.)
. "$(dirname "$0")/lib.sh"
zm_setup

# Long enough that opening the next session on a loaded machine (ASan,
# 2 cores) does not reach it.
LIMIT=6
# lgwan: carol (group wheel) is privileged; a short limit for the test.
sed -i "s/^privileged_max_failures = 2\$/&\nprivileged_session_limit = ${LIMIT}s/" "$ZM_CONF"
grep -q "^privileged_session_limit = ${LIMIT}s" "$ZM_CONF" ||
    bail_out "cannot set privileged_session_limit in $ZM_CONF"
# R13: lgwan limits everyone to 1h (carol's shorter limit applies);
# mynumber limits everyone to LIMIT seconds.
sed -i "s/^privileged_session_limit = ${LIMIT}s\$/&\nsession_limit = 1h\nidle_timeout = 1s/" "$ZM_CONF"
sed -i "/^\[zone mynumber\]\$/a session_limit = ${LIMIT}s" "$ZM_CONF"
[[ $(grep -c "^session_limit = " "$ZM_CONF") -eq 2 ]] ||
    bail_out "cannot set session_limit in $ZM_CONF"

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp carol S_CAROL || bail_out "cannot enrol carol: $OUT"
enroll_totp alice S_ALICE || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"

# ---- a privileged session ends at the limit
t0=$(date +%s)
if start_held lgwan carol "$(password carol)" "$(totp_code "$S_CAROL")"; then
	ok "carol (privileged) has a session open"
else
	not_ok "carol (privileged) has a session open"
fi
CAROL_PID=$HELD_PID
CAROL_OUT=$HELD_OUT
if start_held lgwan alice "$(password alice)" "$(totp_code "$S_ALICE")"; then
	ok "alice (ordinary) has a session open"
else
	not_ok "alice (ordinary) has a session open"
fi
ALICE_PID=$HELD_PID
if start_held mynumber bob "$(password bob)" "$(totp_code "$S_BOB")"; then
	ok "bob (ordinary) has a session open in mynumber"
else
	not_ok "bob (ordinary) has a session open in mynumber"
fi
BOB_PID=$HELD_PID
BOB_OUT=$HELD_OUT

# Not before the limit.
sleep 1
if (($(date +%s) - t0 >= LIMIT - 1)); then
	skip "R9: carol's session is still open before the limit" \
	    "this machine took $(($(date +%s) - t0)) s to open two sessions"
elif kill -0 "$CAROL_PID" 2>/dev/null; then
	ok "R9: carol's session is still open before the limit"
else
	not_ok "R9: carol's session is still open before the limit"
fi
HELD_PID=$CAROL_PID
HELD_OUT=$CAROL_OUT
if wait_held $((LIMIT + 5)); then
	ok "R9: the daemon ends carol's privileged session"
else
	not_ok "R9: the daemon ends carol's privileged session"
fi
t1=$(date +%s)
expect_match 'SESSION ENDED signal=1$' "the session was ended by SIGHUP"
if ((t1 - t0 >= LIMIT - 1 && t1 - t0 <= LIMIT + 4)); then
	ok "R9: it ended about ${LIMIT}s after it opened ($((t1 - t0))s)"
else
	not_ok "R9: it ended about ${LIMIT}s after it opened ($((t1 - t0))s)"
fi
wait_audit 1 "$(jf event session_end)" "$(jf user carol)" || true	# follows the holder's exit
check "R9/R15: the end is audited (session_end, reason session_limit)" \
    test "$(audit_count "$(jf event session_end)" "$(jf user carol)" \
    "$(jf result ok)" "$(jf reason session_limit)")" -eq 1
check "R9: the session was registered as privileged" \
    test "$(audit_count "$(jf event session_open)" "$(jf user carol)" 'privileged')" -eq 1
if kill -0 "$ALICE_PID" 2>/dev/null; then
	ok "R9/R13: alice's ordinary session (under lgwan's 1h session_limit) stays"
else
	not_ok "R9/R13: alice's ordinary session (under lgwan's 1h session_limit) stays"
fi
check "no session_end for alice" \
    test "$(audit_count "$(jf event session_end)" "$(jf user alice)")" -eq 0

# R13: session_limit ends an ordinary user's session in mynumber too.
HELD_PID=$BOB_PID
HELD_OUT=$BOB_OUT
if wait_held 5; then
	ok "R13: the daemon ends bob's ordinary session at mynumber's session_limit"
else
	not_ok "R13: the daemon ends bob's ordinary session at mynumber's session_limit"
fi
expect_match 'SESSION ENDED signal=1$' "bob's session was ended by SIGHUP"
wait_audit 1 "$(jf event session_end)" "$(jf user bob)" || true
check "R13/R15: the end is audited (session_end, zone mynumber, reason session_limit)" \
    test "$(audit_count "$(jf event session_end)" "$(jf user bob)" \
    "$(jf zone mynumber)" "$(jf result ok)" "$(jf reason session_limit)")" -eq 1
check "R13: bob's session was not registered as privileged" \
    test "$(audit_count "$(jf event session_open)" "$(jf user bob)" 'privileged')" -eq 0

# ---- the limit survives a daemon restart (sessions read back from the store)
if start_held lgwan carol "$(password carol)" "$(totp_code "$S_CAROL" 30)"; then
	ok "carol opens a second privileged session"
else
	not_ok "carol opens a second privileged session"
fi
t0=$(date +%s)
stop_daemon
start_daemon || bail_out "zonemfa-tokend did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
ok "the daemon restarts while carol's session is open"
if wait_held $((LIMIT + 5)); then
	ok "R9: after the restart the daemon still ends carol's session at the limit"
else
	not_ok "R9: after the restart the daemon still ends carol's session at the limit"
fi
# The holder is gone once signalled; the daemon records the end right
# after it sees that (slower under the sanitizers).
wait_audit 2 "$(jf event session_end)" "$(jf user carol)" \
    "$(jf reason session_limit)" || true
check "R9/R15: the second end is audited too" \
    test "$(audit_count "$(jf event session_end)" "$(jf user carol)" \
    "$(jf reason session_limit)")" -eq 2

if kill -0 "$ALICE_PID" 2>/dev/null; then
	ok "R13: idle_timeout ends no session without a logind id (alice's, after the restart's sweep)"
else
	not_ok "R13: idle_timeout ends no session without a logind id (alice's, after the restart's sweep)"
fi
check "no session_end with reason idle_timeout" \
    test "$(audit_count "$(jf event session_end)" "$(jf reason idle_timeout)")" -eq 0

# The daemon keeps serving: a login works after the limit ended sessions.
run_login --no-session lgwan alice "$(password alice)" "$(totp_code "$S_ALICE" 30)"
expect_match '^auth: PAM_SUCCESS' "the daemon serves logins after ending sessions"

kill -TERM "$ALICE_PID" 2>/dev/null
stop_daemon_ok
run zm_audit verify
expect_rc 0 "R15: the audit chain is intact"
done_testing
