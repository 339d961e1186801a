#!/bin/bash
# it_perm.sh - caller rules (SO_PEERCRED): who may authenticate whom, who
# may enrol, list and revoke; separation of duties (R10).
. "$(dirname "$0")/lib.sh"
zm_setup

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_ALICE || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"
ok "hd1 enrols alice and bob"

# An unprivileged process (a screen locker running as alice) may only
# authenticate alice.  alice knows bob's password here: the daemon must
# still refuse to check a code for bob on her behalf.
as_user alice run_login --no-session lgwan bob "$(password bob)" "$(totp_code "$S_BOB")"
expect_match '^auth: PAM_AUTH_ERR' "alice cannot start authentication for bob (PAM_AUTH_ERR)"
expect_rc 1 "zm-login as alice for bob exits 1"
# Under a loaded parallel run the record has been seen to land just after
# the client's reply was read: wait for it (5 s), then count exactly.
wait_audit 1 "$(jf event auth)" "$(jf user bob)" "$(jf result refused)"
check "R15: the refused caller is audited as refused" \
    test "$(audit_count "$(jf event auth)" "$(jf user bob)" "$(jf result refused)")" -eq 1

# The refusal did not consume bob's code: root (the login service) can
# still authenticate bob with it.
run_login lgwan bob "$(password bob)" "$(totp_code "$S_BOB")"
expect_match '^auth: PAM_SUCCESS' "bob's code was not consumed by alice's refused attempt"

as_user alice run_login --no-session lgwan alice "$(password alice)" "$(totp_code "$S_ALICE")"
expect_match '^auth: PAM_SUCCESS' "alice can authenticate herself through the module"
expect_match '^account: PAM_SUCCESS' "alice's own account check passes"
# Unprivileged programs (a user's own session manager) may register a
# session only for their own user and their own process.
as_user alice run_login lgwan alice "$(password alice)" "$(totp_code "$S_ALICE" 30)"
expect_match '^session: PAM_SUCCESS' "alice registers a session for her own process"
expect_match '^close: PAM_SUCCESS' "and closes it from the same process"

# Enrolment, listing and revocation need root, helpdesk or admin.
run as_user bob zm_enroll totp alice
expect_rc 1 "bob (not staff) cannot enrol a token for alice: exit 1"
expect_no_match 'otpauth://' "no secret is handed to bob"
run as_user carol zm_enroll totp alice
expect_rc 1 "carol (wheel, not helpdesk) cannot enrol: exit 1"
run as_user bob zm_enroll list alice
expect_rc 1 "bob cannot list tokens: exit 1"
run as_user bob zm_revoke --user alice --all --reason lost
expect_rc 1 "bob cannot revoke alice's tokens: exit 1"

# R10: never for oneself.
run as_user hd1 zm_enroll totp hd1
expect_rc 1 "R10: hd1 cannot enrol a token for himself: exit 1"
expect_match '[Ss]eparation|own account|yourself|themselves' "R10: the refusal names separation of duties"
expect_no_match 'otpauth://' "R10: no URI is printed for a self-enrolment"
run as_user adm1 zm_enroll totp adm1
expect_rc 1 "R10: adm1 (admin) cannot enrol for himself either"

run as_user adm1 zm_enroll totp carol
expect_rc 0 "adm1 (admin group) enrols a token for carol"
expect_match '^otpauth://totp/' "the enrolment prints an otpauth:// URI"

run as_user hd2 zm_enroll list alice
expect_rc 0 "hd2 (helpdesk) lists alice's tokens"
expect_match 'alice +totp +active' "the listing shows alice's active TOTP token"

check "R15: the enrolment is audited with its operator" \
    test "$(audit_count "$(jf event enrol)" "$(jf user carol)" "$(jf result ok)" "$(jf operator adm1)")" -eq 1
check "R15: the refused enrolment is audited with its operator" \
    test "$(audit_count "$(jf event enrol)" "$(jf user alice)" "$(jf result refused)" "$(jf operator bob)")" -eq 1

# A session is closed only by the process that registered it, or once
# that process is gone: otherwise a user could take a running login out
# of revocation, card removal and the privileged time limit (R5, R9).
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"
if start_held lgwan bob "$(password bob)" "$(totp_code "$S_BOB")"; then
	ok "bob's login holds a session (registered by root's PAM stack)"
else
	not_ok "bob's login holds a session (registered by root's PAM stack)"
fi
sid=$(grep -E "$(jf event session_open)" "$ZM_AUDIT_LOG" | grep -E "$(jf user bob)" |
    tail -n 1 | sed -n 's/.*"detail": *"session \([0-9]*\).*/\1/p')
# session_close SID: one raw SESSION_CLOSE request; prints "status N".
session_close() {
	zm_exec python3 "$top_srcdir/tests/ipc_raw.py" "$ZM_SOCK" 0x14 "16=u64:$1"
}
run as_user bob session_close "$sid"
expect_match '^status 7$' "R5/R9: bob cannot close the session his login's process registered (PERM)"
run as_user hd1 zm_revoke --user bob --all --reason lost
expect_match '^sessions ended: 1$' "the session stayed open and is ended by the revocation"
wait_held 5 || true

stop_daemon_ok
done_testing
