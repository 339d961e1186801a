#!/bin/bash
# it_login.sh - logins at each zone through the real libpam (pam_wrapper),
# pam_matrix as the password module, the real pam_zonemfa.so and the real
# zonemfa-tokend.
. "$(dirname "$0")/lib.sh"
zm_setup

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
ok "daemon starts and listens"

if enroll_totp alice S_ALICE; then
	ok "hd1 enrols a TOTP token for alice (otpauth URI)"
else
	not_ok "hd1 enrols a TOTP token for alice (otpauth URI)"
	bail_out "no TOTP secret for alice"
fi

# R1 R2: lgwan needs knowledge (the stacked password) + possession (TOTP).
code=$(totp_code "$S_ALICE")
run_login lgwan alice "$(password alice)" "$code"
expect_match '^auth: PAM_SUCCESS' "R1 R2: lgwan login with password + TOTP succeeds"
expect_match '^account: PAM_SUCCESS' "account phase accepts alice"
expect_match '^session: PAM_SUCCESS' "the session opens"
expect_match '^close: PAM_SUCCESS' "the session closes"
expect_rc 0 "zm-login exits 0 after auth, account and session"

# R2 R14: the same code twice is a replay.
run_login lgwan alice "$(password alice)" "$code"
expect_match '^auth: PAM_AUTH_ERR' "a replayed code is refused (PAM_AUTH_ERR)"
expect_match 'already been used' "a replayed code is refused with the 'already been used' message"
expect_rc 1 "zm-login exits 1 when auth fails"

# The next step's code is fresh; R13: the session shows the last login.
run_login lgwan alice "$(password alice)" "$(totp_code "$S_ALICE" 30)"
expect_match '^auth: PAM_SUCCESS' "the next step's code is accepted after a replay refusal"
expect_match '[Ll]ast login' "R13: session open shows the last login"

# Wrong password: pam_matrix is requisite, so the stack stops there and the
# daemon is never asked (no auth record for the attempt).
n_before=$(audit_count "$(jf event auth)" "$(jf user alice)")
run_login lgwan alice "wrong-password" "$(totp_code "$S_ALICE" 30)"
expect_match '^auth: PAM_AUTH_ERR' "a wrong password is refused"
CMD="audit records for alice: $n_before before"
OUT=$(cat "$ZM_AUDIT_LOG" 2>/dev/null)
n_after=$(audit_count "$(jf event auth)" "$(jf user alice)")
if [[ $n_after -eq $n_before && $n_before -gt 0 ]]; then
	ok "after a wrong password the daemon is never asked (no new auth record)"
else
	not_ok "after a wrong password the daemon is never asked ($n_before -> $n_after auth records)"
fi

# R1: My Number needs possession; bob has no token at all.
run_login mynumber bob "$(password bob)"
expect_match '^auth: PAM_AUTH_ERR' "R1: My Number login without a possession token is refused"
expect_match '[Nn]o token' "the refusal says 'no token' (contact the helpdesk)"

# R1: the internet zone needs knowledge only: password alone succeeds.
run_login internet bob "$(password bob)"
expect_match '^auth: PAM_SUCCESS' "R1: internet zone login with password only succeeds"
expect_match '^session: PAM_SUCCESS' "internet zone session opens"
expect_rc 0 "internet zone login exits 0"

run_login internet bob "not-bobs-password"
expect_match '^auth: PAM_AUTH_ERR' "internet zone: a wrong password is still refused"

# R15: the audit log records the attempts and the session.
OUT=$(cat "$ZM_AUDIT_LOG" 2>/dev/null)
CMD="cat $ZM_AUDIT_LOG"
RC=0
check "R15: audit has an auth record for alice with result ok" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result ok)")" -ge 2
check "R15: audit records the refused replay for alice" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result fail)" '"reason": ?"[^"]*already used')" -ge 1
check "R15: audit has session_open for alice" \
    test "$(audit_count "$(jf event session_open)" "$(jf user alice)")" -ge 2
check "R15: audit has session_close for alice" \
    test "$(audit_count "$(jf event session_close)" "$(jf user alice)")" -ge 2
check "R15: audit records the no-token refusal for bob at mynumber" \
    test "$(audit_count "$(jf event auth)" "$(jf user bob)" "$(jf zone mynumber)" "$(jf result fail)")" -ge 1
check "R15: audit records the methods used (password totp)" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result ok)" "$(jf methods 'password totp')")" -ge 2
no_secret_logged() {
	! grep -Eq "pw-alice|pw-bob|\"$code\"" "$ZM_AUDIT_LOG"
}
check "R14: no password and no code appears in the audit log" no_secret_logged

stop_daemon_ok
done_testing
