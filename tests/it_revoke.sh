#!/bin/bash
# it_revoke.sh - R5 lost token: new logins refused and running sessions
# ended at once; revocation is final.
. "$(dirname "$0")/lib.sh"
zm_setup

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_OLD || bail_out "cannot enrol alice: $OUT"
ok "hd1 enrols alice"

# A session opened with the token, held open like a login shell.
if start_held lgwan alice "$(password alice)" "$(totp_code "$S_OLD")"; then
	ok "alice's session is open (zm-login --hold)"
else
	not_ok "alice's session is open (zm-login --hold)"
fi

run as_user hd1 zm_revoke --user alice --all --reason lost
expect_rc 0 "R5: hd1 revokes all of alice's tokens: exit 0"
expect_match '^revoked: token [0-9]+ \(totp\) of alice at [0-9T:Z-]+, reason lost$' \
    "revoke says what was revoked, when and why"
expect_match '^sessions ended: 1$' "R5: revoke reports 'sessions ended: 1'"

# SPEC: revoke returns only after the sessions are ended.  The holder
# may still be a zombie (its parent, this shell, has not reaped it).
state=$(awk '{ sub(/.*\) /, ""); print substr($0, 1, 1) }' "/proc/$HELD_PID/stat" 2>/dev/null)
if [[ -z $state || $state == Z ]]; then
	ok "R5: when revoke returns, the session process is gone"
else
	not_ok "R5: when revoke returns, the session process is gone (state $state)"
fi
if wait_held 5; then
	ok "the held session ended"
else
	not_ok "the held session ended"
fi
expect_match 'SESSION ENDED signal=' "the session holder was signalled (SESSION ENDED)"
expect_rc 3 "the session holder exits 3 (ended by a signal)"

# R5: the next login is refused, with the reason.
run_login lgwan alice "$(password alice)" "$(totp_code "$S_OLD" 30)"
expect_match '^auth: PAM_AUTH_ERR' "R5: the next login with the revoked token is refused"
expect_match '[Rr]evoked' "the refusal says the token was revoked"

check "R15: the revocation is audited" \
    test "$(audit_count "$(jf event revoke)" "$(jf user alice)")" -ge 1
check "R15: the ended session is audited (session_end, ok)" \
    test "$(audit_count "$(jf event session_end)" "$(jf user alice)" "$(jf result ok)")" -eq 1

# R6: a revoked token never authenticates again, even once the user has a
# new one.
if enroll_totp alice S_NEW; then
	ok "hd1 enrols a new token for alice after the revocation"
else
	not_ok "hd1 enrols a new token for alice after the revocation"
fi
run_login lgwan alice "$(password alice)" "$(totp_code "$S_OLD" 30)"
expect_match '^auth: PAM_AUTH_ERR' "R6: the revoked secret does not authenticate after a re-enrolment"
run_login lgwan alice "$(password alice)" "$(totp_code "$S_NEW")"
expect_match '^auth: PAM_SUCCESS' "the new token authenticates"

run as_user hd1 zm_enroll list alice
expect_match 'alice +totp +revoked' "the listing shows the revoked token"

# Usage and unknown users.
run as_user hd1 zm_revoke --user alice --all --reason misplaced
expect_rc 2 "revoke with a bad reason exits 2"
run as_user hd1 zm_revoke --user alice --all
expect_rc 2 "revoke without a reason exits 2"
run as_user hd1 zm_revoke --user nosuchuser --all --reason lost
expect_rc 1 "revoke of an unknown user exits 1"

# SPEC: with the daemon down, root still records the revocation in the
# registry and exits non-zero because no session could be ended; a
# helpdesk operator (not root) gets "NOT recorded".
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"
stop_daemon_ok
run as_user hd1 zm_revoke --user bob --all --reason stolen
expect_rc 1 "daemon down: a non-root operator's revoke exits 1"
expect_match 'NOT recorded' "daemon down: the non-root operator is told nothing was recorded"
run zm_revoke --user bob --all --reason stolen
expect_rc 1 "R5: daemon down: root's revoke exits 1 (sessions could not be ended)"
expect_match '^revoked: token [0-9]+ of bob at ' "R5: daemon down: root's revoke is recorded and printed"
expect_match 'sessions could not be ended' "daemon down: revoke says sessions could not be ended"
start_daemon || bail_out "zonemfa-tokend did not restart"
run_login lgwan bob "$(password bob)" "$(totp_code "$S_BOB")"
expect_match '^auth: PAM_AUTH_ERR' "R5: after the offline revocation bob's token is refused"
run zm_audit verify
expect_rc 0 "R15: the offline revocation kept the audit chain intact"
check "R15: the offline revocation is audited" \
    test "$(audit_count "$(jf event revoke)" "$(jf user bob)")" -ge 1
# A running daemon whose socket cannot be reached holds the audit log:
# root's offline path must not write a second chain into it.
enroll_totp bob S_BOB2 || bail_out "cannot enrol bob again: $OUT"
mv "$ZM_DIR/tokend.sock" "$ZM_DIR/tokend.sock.away"
run zm_revoke --user bob --all --reason lost
mv "$ZM_DIR/tokend.sock.away" "$ZM_DIR/tokend.sock"
expect_rc 1 "socket unreachable but daemon running: revoke exits 1"
expect_match 'seems to be running' "it says the daemon seems to be running"
expect_match 'NOT recorded' "and that nothing was recorded"
run_login lgwan bob "$(password bob)" "$(totp_code "$S_BOB2")"
expect_match '^auth: PAM_SUCCESS' "bob's new token still works (nothing was revoked)"

stop_daemon_ok
done_testing
