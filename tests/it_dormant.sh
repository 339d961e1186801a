#!/bin/bash
# it_dormant.sh - R8 dormant and leaver IDs: an account unused for
# dormant_after is refused (auth and account phases) with a "contact the
# helpdesk" message; `zonemfa-enroll enable` brings it back (audited);
# `zonemfa-audit dormant` lists accounts dormant or about to be.
#
# No test backdoor: a test zone has dormant_after = 5s and the test waits.
. "$(dirname "$0")/lib.sh"
zm_setup

cat >>"$ZM_CONF" <<EOF

[zone dormant]
require = knowledge possession
methods = totp
password = stack
max_failures = 3
lockout = 30m
dormant_after = 5s
EOF
write_service dormant dormant
# The account phase alone (the password module did the authentication).
cat >"$ZM_PAMD/dormacct" <<EOF
auth	requisite	$PAM_MATRIX passdb=$ZM_DIR/passdb
account	required	$ZM_MODULE conf=$ZM_CONF zone=dormant
EOF

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_ALICE || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"

run_login --no-session dormant alice "$(password alice)" "$(totp_code "$S_ALICE")"
expect_match '^auth: PAM_SUCCESS' "alice logs in while the account is in use"
run_login --no-session dormacct bob "$(password bob)"
expect_match '^account: PAM_SUCCESS' "bob's account phase passes while fresh"

run as_user hd1 zm_audit dormant --zone dormant --days 0
expect_rc 0 "zonemfa-audit dormant (hd1) exits 0"
expect_no_match '^alice ' "R8: alice is not listed as dormant while in use" 

sleep 6

# ---- refused once dormant
run_login --no-session dormant alice "$(password alice)" "$(totp_code "$S_ALICE" 30)"
expect_match '^auth: PAM_(AUTH_ERR|ACCT_EXPIRED|PERM_DENIED)' "R8: a dormant account is refused at auth"
expect_match '(dormant|helpdesk)' "R8: the refusal says dormant / contact the helpdesk"
run_login --no-session dormacct bob "$(password bob)"
expect_match '^account: PAM_(AUTH_ERR|ACCT_EXPIRED|PERM_DENIED)' "R8: the account phase refuses a dormant account (never logged in since enrolment)"
expect_match '(dormant|helpdesk)' "R8: the account-phase refusal says why"
check "R15: the refusals are audited with the reason" \
    test "$(audit_count "$(jf reason 'account dormant')" "$(jf result refused)")" -ge 2
# Another zone (lgwan, dormant_after 90d) is unaffected.
run_login --no-session lgwan alice "$(password alice)" "$(totp_code "$S_ALICE" 30)"
expect_match '^auth: PAM_SUCCESS' "in a zone with a longer dormant_after alice still logs in"

# ---- the listing
sleep 6
run as_user hd1 zm_audit dormant --zone dormant --days 0
expect_rc 0 "zonemfa-audit dormant --days 0 exits 0"
expect_match '^alice +.* +0 +dormant$' "R8: alice is listed as dormant"
expect_match '^bob +- +0 +dormant$' "R8: bob (never logged in) is listed as dormant"
expect_match 'USER +LAST-LOGIN +DAYS-IDLE +STATE' "the listing has a header"
run as_user hd1 zm_audit dormant --zone lgwan
expect_no_match '^(alice|bob) ' "in lgwan (90d) nobody is about to be dormant within 14 days"
run as_user hd1 zm_audit dormant --zone lgwan --days 100
expect_match '^alice +.*dormant in (89|90) days$' "--days 100 lists alice as dormant in 90 days (lgwan)"
run as_user alice zm_audit dormant --zone dormant
expect_rc 1 "a non-staff caller may not list accounts (exit 1)"
run as_user hd1 zm_audit dormant --zone nosuchzone
expect_rc 2 "an unknown zone is a usage error (exit 2)"
run as_user hd1 zm_audit dormant --days x
expect_rc 2 "a bad --days is a usage error (exit 2)"

# ---- enable restarts the clock (audited with the operator)
run as_user hd1 zm_enroll enable bob
expect_rc 0 "R8: hd1 enables bob"
run_login --no-session dormant bob "$(password bob)" "$(totp_code "$S_BOB")"
expect_match '^auth: PAM_SUCCESS' "R8: after enable bob logs in again"
check "R8/R15: the enable is audited with the operator" \
    test "$(audit_count "$(jf event enable)" "$(jf user bob)" "$(jf operator hd1)" "$(jf result ok)")" -eq 1
run as_user hd1 zm_audit dormant --zone dormant --days 0
expect_no_match '^bob ' "R8: bob is no longer listed as dormant after enable"
run as_user alice zm_enroll enable alice
expect_rc 1 "R10: alice cannot enable herself"

stop_daemon_ok
done_testing
