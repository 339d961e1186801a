#!/bin/bash
# it_sod.sh - R10 separation of duties: every helpdesk subcommand aimed at
# the operator's own account is refused (exit 1, with the reason), and
# audited; the same command on someone else works (so the refusal is
# about the target, not the command).
. "$(dirname "$0")/lib.sh"
zm_setup

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp hd1 >/dev/null || bail_out "cannot enrol hd1: $OUT"

# self_refused DESC ARGS...: hd1 runs zonemfa-enroll ARGS on hd1.
self_refused() {
	local desc=$1
	shift
	run as_user hd1 zm_enroll "$@"
	expect_rc 1 "R10: hd1 '$desc' on own account exits 1"
	expect_match '(own account|separation|自分)' "R10: '$desc' on own account names the separation rule"
}
self_refused totp totp hd1
self_refused unlock unlock hd1
self_refused disable disable hd1
self_refused enable enable hd1
self_refused temp-code temp-code hd1 --valid 1h
self_refused temp-password temp-password hd1
check "R10/R15: all six refusals are audited with the reason" \
    test "$(audit_count "$(jf user hd1)" "$(jf operator hd1)" "$(jf result refused)" 'own account')" -eq 6
run as_user hd1 zm_enroll list hd1
check "R10: the refused requests left no token behind (hd1 has one, from hd2)" \
    test "$(grep -Ec '^[0-9]+ +hd1 +' <<<"$OUT")" -eq 1

# The same commands on another account are not refused for R10.
run as_user hd1 zm_enroll unlock hd2
expect_no_match 'own account' "hd1 unlocking hd2 is not refused for R10 (hd2 has no registry row yet)"
run as_user hd2 zm_enroll temp-code hd1 --valid 1h
expect_rc 0 "hd2 may issue hd1 a temporary code"
run as_user hd1 zm_enroll disable bob
expect_rc 0 "hd1 may disable bob"
run as_user hd1 zm_enroll enable bob
expect_rc 0 "hd1 may enable bob"

# The helpdesk is not a way into root or into the accounts that
# administer it: no second factor for uid 0, and no password for
# administrators or privileged users (R9, R10); an alias of the
# operator's own uid is the operator's own account.
run as_user hd1 zm_enroll totp root
expect_rc 1 "R9/R10: hd1 cannot enrol a token for root"
expect_match 'permission denied' "the refusal says permission denied"
run as_user hd1 zm_enroll temp-password adm1
expect_rc 1 "R9: hd1 cannot set a temporary password for an administrator"
run as_user hd1 zm_enroll temp-password carol
expect_rc 1 "R9: hd1 cannot set a temporary password for a privileged user (wheel)"
check "R9/R15: both password refusals are audited with the reason" \
    test "$(audit_count "$(jf event temp_password)" "$(jf result refused)" "$(jf operator hd1)" 'only root or admin_group may set')" -eq 2
sleep 1.1	# nss_wrapper reloads its files when the mtime second changes
echo "hdalias:x:2101:2101:alias of hd1:/nonexistent:/bin/sh" >>"$ZM_DIR/passwd"
run as_user hd1 zm_enroll totp hdalias
expect_rc 1 "R10: an alias with hd1's own uid is hd1's own account"
expect_match '(own account|separation)' "the alias refusal names the separation rule"

stop_daemon_ok
done_testing
