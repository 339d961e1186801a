#!/bin/bash
# it_lockout.sh - attempt limits, privileged limits, helpdesk unlock and
# separation of duties, through the real PAM stack and daemon.
. "$(dirname "$0")/lib.sh"
zm_setup

# The module's words (pam_module/messages.c); near midnight the time of a
# lock that ends tomorrow comes with its date.
LOCKED='locked until|Account locked'
UNTIL='locked until ([0-9]{4}-[0-9]{2}-[0-9]{2} )?[0-9]{2}:[0-9]{2}'

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
for u in alice carol hd2 adm1; do
	enroll_totp "$u" "S_$u" || bail_out "cannot enrol $u: $OUT"
done
ok "hd1 enrols alice and carol, adm1 enrols hd2, root enrols adm1"

# R13: lgwan max_failures = 3.  The first two wrong codes say how many
# tries are left; the third locks for 30 minutes.
bad=$(wrong_code "$S_alice")
run_login lgwan alice "$(password alice)" "$bad"
expect_match '^auth: PAM_AUTH_ERR' "wrong code 1/3 is refused"
expect_no_match "$LOCKED" "wrong code 1/3 does not lock yet"
expect_match 'Wrong one-time code\. 2 attempts left' "wrong code 1/3 says 2 attempts are left"
run_login lgwan alice "$(password alice)" "$bad"
expect_no_match "$LOCKED" "wrong code 2/3 does not lock yet"
expect_match 'Wrong one-time code\. 1 attempt left' "wrong code 2/3 says 1 attempt is left"
run_login lgwan alice "$(password alice)" "$bad"
expect_match '^auth: PAM_(AUTH_ERR|MAXTRIES|PERM_DENIED)' "wrong code 3/3 is refused"
expect_match "$UNTIL" "R13: the third wrong code locks with 'locked until HH:MM'"
expect_match "locked until ([0-9-]+ )?($(hhmm 1800)|$(hhmm 1740))" "the lock lasts the zone's 30 minutes"

run_login lgwan alice "$(password alice)" "$(totp_code "$S_alice")"
expect_match '^auth: PAM_(AUTH_ERR|MAXTRIES|PERM_DENIED)' "R13: a correct code is refused while locked"
expect_match "$UNTIL" "the refusal while locked repeats 'locked until HH:MM'"
check "R15: the lock is audited" \
    test "$(audit_count "$(jf event lock)" "$(jf user alice)")" -eq 1
check "R15: the refusal while locked is audited" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result refused)" "$(jf reason 'account locked')")" -ge 1

# R9: carol is in wheel (privileged_groups): privileged_max_failures = 2.
bad=$(wrong_code "$S_carol")
run_login lgwan carol "$(password carol)" "$bad"
expect_no_match "$LOCKED" "privileged carol: wrong code 1/2 does not lock"
expect_match '1 attempt left' "privileged carol: wrong code 1/2 says 1 attempt is left"
run_login lgwan carol "$(password carol)" "$bad"
expect_match "$UNTIL" "R9: privileged carol is locked after 2 wrong codes, not 3"

# R10: unlock by the helpdesk; never by oneself; never by a non-staff user.
run as_user bob zm_enroll unlock alice
expect_rc 1 "bob (not helpdesk) cannot unlock alice: exit 1"
run as_user hd1 zm_enroll unlock hd1
expect_rc 1 "R10: hd1 cannot unlock himself: exit 1"
expect_match '[Ss]eparation|own account|yourself|themselves' "R10: the refusal names separation of duties"
run as_user hd1 zm_enroll unlock alice
expect_rc 0 "hd1 unlocks alice: exit 0"
run_login lgwan alice "$(password alice)" "$(totp_code "$S_alice")"
expect_match '^auth: PAM_SUCCESS' "after the unlock alice logs in"
check "R15: the unlock is audited" \
    test "$(audit_count "$(jf event unlock)" "$(jf user alice)")" -ge 1

run as_user adm1 zm_enroll unlock carol
expect_rc 0 "adm1 (admin group) unlocks carol"
run_login lgwan carol "$(password carol)" "$(totp_code "$S_carol")"
expect_match '^auth: PAM_SUCCESS' "after the unlock carol logs in"

# lockout = helpdesk: locked with no end time.
bad=$(wrong_code "$S_hd2")
run_login strict hd2 "$(password hd2)" "$bad"
run_login strict hd2 "$(password hd2)" "$bad"
run_login strict hd2 "$(password hd2)" "$bad"
expect_match 'Account locked\. Contact the helpdesk' "lockout = helpdesk: the lock message sends the user to the helpdesk"
expect_no_match "$UNTIL" "lockout = helpdesk: no end time is shown"
run_login strict hd2 "$(password hd2)" "$(totp_code "$S_hd2")"
expect_match '^auth: PAM_(AUTH_ERR|MAXTRIES|PERM_DENIED)' "lockout = helpdesk: a correct code is refused"
run as_user hd2 zm_enroll unlock hd2
expect_rc 1 "R10: hd2 cannot unlock herself either"
run as_user hd1 zm_enroll unlock hd2
expect_rc 1 "hd1 (helpdesk) cannot unlock hd2, a staff account"
run as_user adm1 zm_enroll unlock hd2
expect_rc 0 "adm1 (admin group) unlocks hd2"
run_login strict hd2 "$(password hd2)" "$(totp_code "$S_hd2")"
expect_match '^auth: PAM_SUCCESS' "after the helpdesk unlock hd2 logs in at strict"

# A conversation that ends without an answer (EOF at the OTP prompt) is
# not a failed attempt: more of them than max_failures do not lock.
all_refused=1
for _ in 1 2 3 4; do
	run_login lgwan adm1 "$(password adm1)"
	grep -q '^auth: PAM_SUCCESS' <<<"$OUT" && all_refused=0
done
if [[ $all_refused == 1 ]]; then
	ok "EOF at the OTP prompt does not authenticate"
else
	not_ok "EOF at the OTP prompt does not authenticate"
fi
expect_no_match "$LOCKED" "4 unanswered prompts (max_failures 3) do not lock"
run_login lgwan adm1 "$(password adm1)" "$(totp_code "$S_adm1")"
expect_match '^auth: PAM_SUCCESS' "after 4 unanswered prompts the correct code still logs in"

stop_daemon_ok
done_testing
