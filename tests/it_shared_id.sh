#!/bin/bash
# it_shared_id.sh - R7 shared IDs with a person behind them: a shared
# account ([shared NAME] in zonemfa.conf) is used only by its listed
# members, each with their own token; the audit log names both the
# account and the person; revoking the person's token ends the shared
# sessions they opened.  Through the real PAM stack (pam_wrapper).
. "$(dirname "$0")/lib.sh"
ZM_UID[madoguchi01]=2301
ZM_USERS="$ZM_USERS madoguchi01"
zm_setup
cat >>"$ZM_CONF" <<'CONF'

# The counter terminal's account: alice and bob work at the counter.
[shared madoguchi01]
members = alice bob
CONF

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_A || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_B || bail_out "cannot enrol bob: $OUT"
enroll_totp carol S_C || bail_out "cannot enrol carol: $OUT"
PW=$(password madoguchi01)

# A member with their own code: in, and the record names both.
run_login lgwan madoguchi01 "$PW" alice "$(totp_code "$S_A")"
expect_match '^auth: PAM_SUCCESS' "R7: member alice logs in to madoguchi01 with her own TOTP"
expect_match 'shared account\. Your own user name' "R7: the conversation asks who is at the terminal"
expect_match '^session: PAM_SUCCESS' "R7: the shared session opens"
check "R7: the auth record names the shared account and the person" \
    test "$(audit_count "$(jf event auth)" "$(jf user madoguchi01)" \
    "$(jf person alice)" "$(jf result ok)")" -eq 1
check "R7: the session_open record names the person too" \
    test "$(audit_count "$(jf event session_open)" "$(jf user madoguchi01)" \
    "$(jf person alice)" "$(jf result ok)")" -eq 1
check "R7: alice's token (not one of madoguchi01) opened it" \
    test "$(zm_sql "SELECT count(*) FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.user = 'madoguchi01' AND t.user = 'alice'")" -eq 1

# A non-member is refused before any code, and that is audited.
run_login lgwan madoguchi01 "$PW" carol "$(totp_code "$S_C")"
expect_match '^auth: PAM_AUTH_ERR' "R7: non-member carol is refused"
expect_match 'not a registered user of this shared account' "R7: the refusal says why"
check "R7: the refusal is audited with the name given" \
    test "$(audit_count "$(jf event auth)" "$(jf user madoguchi01)" \
    "$(jf result refused)" "not a member" "named carol")" -eq 1
# Something that is not a user name (a password typed too early) is
# not written to the log.
run_login lgwan madoguchi01 "$PW" "pass word!" "$(totp_code "$S_A" 30)"
expect_match '^auth: PAM_AUTH_ERR' "R7: an answer that is not a user name is refused"
check "R7: ...and not logged" test "$(grep -c 'pass word' "$ZM_AUDIT_LOG")" -eq 0

# The member's wrong code counts against the member, not the account:
# the person is the one guessing, and a shared account locked by one
# member would lock out all the others.
run_login lgwan madoguchi01 "$PW" bob "$(wrong_code "$S_B")"
expect_match '^auth: PAM_AUTH_ERR' "R7: bob's wrong code is refused"
check "R7: the failure is counted on bob" \
    test "$(zm_sql "SELECT failures FROM users WHERE name = 'bob'")" -eq 1
check "R7: ...not on the shared account" \
    test "$(zm_sql "SELECT failures FROM users WHERE name = 'madoguchi01'")" -eq 0
check "R7: the failure record names bob as the person" \
    test "$(audit_count "$(jf event auth)" "$(jf user madoguchi01)" \
    "$(jf person bob)" "$(jf result fail)" "wrong code")" -eq 1

# A token enrolled on the shared account itself is not a member's proof.
enroll_totp madoguchi01 S_M || bail_out "cannot enrol madoguchi01: $OUT"
run_login lgwan madoguchi01 "$PW" alice "$(totp_code "$S_M")"
expect_match '^auth: PAM_AUTH_ERR' "R7: the shared account's own token does not open it"

# Revoking bob's token ends the shared session he opened.
if start_held lgwan madoguchi01 "$PW" bob "$(totp_code "$S_B")"; then
	ok "R7: bob's shared session is open (zm-login --hold)"
else
	not_ok "R7: bob's shared session is open (zm-login --hold)"
fi
run as_user hd1 zm_revoke --user bob --all --reason lost
expect_rc 0 "R5: hd1 revokes bob's tokens"
expect_match '^sessions ended: 1$' "R5+R7: the revocation ends bob's shared session"
if wait_held 5; then
	ok "R7: the held shared session ended"
else
	not_ok "R7: the held shared session ended"
fi
check "R7: the ended session was madoguchi01's" \
    test "$(audit_count "$(jf event session_end)" "$(jf user madoguchi01)" "$(jf result ok)")" -eq 1

# A member with a revoked token is refused.
run_login lgwan madoguchi01 "$PW" bob "$(totp_code "$S_B" 30)"
expect_match '^auth: PAM_AUTH_ERR' "R7: member bob with his token revoked is refused"
check "R7: ...audited as bob's" \
    test "$(audit_count "$(jf event auth)" "$(jf user madoguchi01)" \
    "$(jf person bob)" "all tokens revoked")" -ge 1

# Disabling a member (a leaver) ends the shared sessions they opened,
# and they are refused from then on.
if start_held lgwan madoguchi01 "$PW" alice "$(totp_code "$S_A" 30)"; then
	ok "R7: alice's shared session is open (zm-login --hold)"
else
	not_ok "R7: alice's shared session is open (zm-login --hold)"
fi
run as_user hd1 zm_enroll disable alice
expect_rc 0 "hd1 disables alice"
if wait_held 5; then
	ok "R7: disabling alice ended the shared session she opened"
else
	not_ok "R7: disabling alice ended the shared session she opened"
fi
check "R7: ...audited as madoguchi01's session ended (disabled)" \
    test "$(audit_count "$(jf event session_end)" "$(jf user madoguchi01)" "$(jf reason disabled)")" -eq 1
run_login lgwan madoguchi01 "$PW" alice "$(totp_code "$S_A" 60)"
expect_match '^auth: PAM_AUTH_ERR' "R7: disabled member alice is refused"

# Logging in as a member directly is unchanged.
run_login lgwan carol "$(password carol)" "$(totp_code "$S_C" 30)"
expect_match '^auth: PAM_SUCCESS' "carol's own login is not affected"

run zm_audit verify
expect_rc 0 "R15: the chain with person fields verifies"
run zm_audit report
expect_rc 0 "zonemfa-audit report: exit 0"
expect_match '^Shared account use per person: 3$' "R7: the report has shared-ID use per person"
expect_match '^  madoguchi01 +alice +2 +2  ' "R7: alice: 2 logins, 2 refused"
expect_match '^  madoguchi01 +bob +1 +2  ' "R7: bob: 1 login, 2 refused"
expect_match '^  madoguchi01 +\(not a member\) +0 +2  ' "R7: non-members' attempts are counted apart"
run zm_audit report --user bob
expect_match '^Shared account use per person: 1$' "R7: --user bob: bob's use of shared accounts only"

# Taken off the list: the shared sessions the person opened end when the
# daemon starts with the new list (its start-up sweep).
enroll_totp bob S_B2 || bail_out "cannot enrol bob again: $OUT"
if start_held lgwan madoguchi01 "$PW" bob "$(totp_code "$S_B2")"; then
	ok "R7: bob's shared session with his new token is open"
else
	not_ok "R7: bob's shared session with his new token is open"
fi
stop_daemon
sed -i 's/^members = alice bob$/members = alice/' "$ZM_CONF"
start_daemon || bail_out "zonemfa-tokend did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
if wait_held 10; then
	ok "R7: bob, no longer a member, lost the shared session at the restart"
else
	not_ok "R7: bob, no longer a member, lost the shared session at the restart"
fi
check "R7: ...audited with the reason" \
    test "$(audit_count "$(jf event session_end)" "$(jf user madoguchi01)" "$(jf reason not-member)")" -eq 1
run_login lgwan madoguchi01 "$PW" bob "$(totp_code "$S_B2" 30)"
expect_match 'not a registered user of this shared account' "R7: bob is refused as a non-member now"

stop_daemon_ok
done_testing
