#!/bin/bash
# it_sod.sh - R10 separation of duties: every helpdesk subcommand aimed at
# the operator's own account is refused (exit 1, with the reason), and
# audited; the same command on someone else works (so the refusal is
# about the target, not the command).  Staff accounts (helpdesk_group,
# admin_group) are handled only by admin_group or root, revoke included,
# except that one may revoke one's own token (a loss report); group
# membership is read again for every request of a connection.
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
check "R10: the refused requests left no token behind (hd1 has one, from adm1)" \
    test "$(grep -Ec '^[0-9]+ +hd1 +' <<<"$OUT")" -eq 1

# The same commands on another account are not refused for R10.
run as_user hd1 zm_enroll unlock bob
expect_no_match 'own account' "hd1 unlocking bob is not refused for R10 (bob has no registry row yet)"
run as_user hd1 zm_enroll temp-code alice --valid 1h
expect_rc 0 "hd1 may issue alice a temporary code"
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
    test "$(audit_count "$(jf event temp_password)" "$(jf result refused)" "$(jf operator hd1)" 'only root or admin_group may')" -eq 2
sleep 1.1	# nss_wrapper reloads its files when the mtime second changes
echo "hdalias:x:2101:2101:alias of hd1:/nonexistent:/bin/sh" >>"$ZM_DIR/passwd"
run as_user hd1 zm_enroll totp hdalias
expect_rc 1 "R10: an alias with hd1's own uid is hd1's own account"
expect_match '(own account|separation)' "the alias refusal names the separation rule"

# ---- staff accounts: admin_group or root only (R10 by one person: hd1
# enrolling a token for hd2, then logging in as hd2 to act on hd1).
enroll_totp hd2 >/dev/null || bail_out "adm1 cannot enrol hd2: $OUT"
ok "adm1 (admin group) enrols a token for hd2 (a staff account)"
# staff_refused OPERATOR TARGET DESC CMD...
staff_refused() {
	local op=$1 target=$2 desc=$3
	shift 3
	run as_user "$op" "$@"
	expect_rc 1 "$op cannot $desc for $target (a staff account): exit 1"
	expect_match 'permission denied' "$op '$desc' for $target says permission denied"
}
for t in hd2 adm1; do
	staff_refused hd1 $t "enrol a TOTP token" zm_enroll totp $t
	staff_refused hd1 $t "issue a temporary code" zm_enroll temp-code $t --valid 1h
	staff_refused hd1 $t "set a temporary password" zm_enroll temp-password $t
	staff_refused hd1 $t "unlock" zm_enroll unlock $t
	staff_refused hd1 $t "disable" zm_enroll disable $t
	staff_refused hd1 $t "enable" zm_enroll enable $t
	staff_refused hd1 $t "revoke the tokens" zm_revoke --user $t --all --reason lost
done
check "R15: the refusals for staff accounts are audited with the rule (14, and temp-password adm1 above)" \
    test "$(audit_count "$(jf operator hd1)" "$(jf result refused)" 'only root or admin_group may act on a staff account')" -eq 15
run as_user adm1 zm_enroll list hd2
check "hd2's token survived hd1's refused revocation" grep -Eq '^[0-9]+ +hd2 +totp +active' <<<"$OUT"
run as_user adm1 zm_enroll temp-code hd1 --valid 1h
expect_rc 0 "adm1 (admin group) issues hd1 a temporary code"
run as_user adm1 zm_enroll disable hd2
expect_rc 0 "adm1 disables hd2"
run as_user adm1 zm_enroll enable hd2
expect_rc 0 "adm1 enables hd2"
run as_user hd2 zm_enroll temp-code adm1 --valid 1h
expect_rc 1 "hd2 cannot issue the administrator a temporary code"

# Revoke: one's own token is a loss report (allowed, audited as self);
# another helpdesk member's is not (above); admin_group and root may.
run as_user hd1 zm_revoke --user hd1 --all --reason lost
expect_rc 0 "hd1 may revoke their own token (a loss report)"
check "R15: the own-token revocation is audited as self, operator hd1" \
    test "$(audit_count "$(jf event revoke)" "$(jf user hd1)" "$(jf operator hd1)" "$(jf result ok)" 'self')" -eq 1
run as_user adm1 zm_revoke --user hd2 --all --reason lost
expect_rc 0 "adm1 revokes hd2's token"
check "an administrator's revocation of another account is not marked self" \
    test "$(audit_count "$(jf event revoke)" "$(jf user hd2)" "$(jf operator adm1)" 'self')" -eq 0

# ---- group membership is read for every request, not once per
# connection: hd1 taken out of helpdesk_group loses the right on a
# connection opened while a member (0x24 ENABLE, tag 1 USER; 7 = PERM).
ZM_AS=hd1 zm_exec python3 "$top_srcdir/tests/ipc_raw.py" "$ZM_SOCK" \
    0x24 1=str:bob --then "$ZM_DIR/hd1-removed" 0x24 1=str:bob \
    >"$ZM_DIR/raw.out" 2>&1 &
raw_pid=$!
for _ in $(seq 250); do
	[[ -s $ZM_DIR/raw.out ]] && break
	sleep 0.02
done
sleep 1.1	# nss_wrapper reloads its files when the mtime second changes
sed -i 's/^zonemfa-helpdesk:x:3001:hd1,hd2$/zonemfa-helpdesk:x:3001:hd2/' "$ZM_DIR/group"
touch "$ZM_DIR/hd1-removed"
wait "$raw_pid"
RC=$?
OUT=$(cat "$ZM_DIR/raw.out")
CMD="ipc_raw.py as hd1: ENABLE bob, hd1 leaves helpdesk_group, ENABLE bob"
check "hd1's first request on the connection is allowed (a helpdesk member)" \
    test "$(sed -n 1p <<<"$OUT")" = "status 0"
check "after hd1 left helpdesk_group, the next request on the same connection is refused" \
    test "$(sed -n 2p <<<"$OUT")" = "status 7"
run as_user hd1 zm_enroll enable bob
expect_rc 1 "and so is a new connection"

stop_daemon_ok
done_testing
