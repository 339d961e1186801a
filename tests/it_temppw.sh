#!/bin/bash
# it_temppw.sh - R11 temporary passwords: the daemon sets a random
# password for a local account through chpasswd and forces a change at the
# first login (chage -d 0).  Changing a real account is only done on a
# throwaway machine (ZM_TEST_SYSTEM_ACCOUNTS=1, as CI sets): a dedicated
# user is created with useradd and deleted afterwards.
. "$(dirname "$0")/lib.sh"
zm_setup

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"

# alice exists only in the nss_wrapper files, not in /etc/passwd.
run as_user hd1 zm_enroll temp-password alice
expect_rc 1 "R11: a non-local account gets no temporary password (exit 1)"
check "R15: the refusal is audited" \
    test "$(audit_count "$(jf event temp_password)" "$(jf user alice)" "$(jf result refused)" 'not a local account')" -eq 1
run as_user alice zm_enroll temp-password bob
expect_rc 1 "a non-staff caller cannot set temporary passwords (exit 1)"
run as_user hd1 zm_enroll temp-password
expect_rc 2 "temp-password without USER is a usage error (exit 2)"

if [[ ${ZM_TEST_SYSTEM_ACCOUNTS:-0} != 1 ]]; then
	skip "R11: temporary password on a real local account" \
	    "changes /etc/shadow: set ZM_TEST_SYSTEM_ACCOUNTS=1 on a throwaway machine"
	skip "R11: the change is forced at the first login" "as above"
	skip "R11: the password works (pam_unix)" "as above"
else
	u=zmtp$$
	if useradd -M -s /usr/sbin/nologin "$u" 2>/dev/null; then
		trap 'userdel "$u" 2>/dev/null; zm_cleanup' EXIT
		# nss_wrapper notices a changed file by its mtime in whole
		# seconds: change it in a later second than the last lookup.
		sleep 1.1
		echo "$u:x:$(id -u "$u"):$(id -g "$u"):$u:/nonexistent:/bin/sh" >>"$ZM_DIR/passwd"
		run as_user hd1 zm_enroll temp-password "$u"
		pw=$(grep -E '^[A-Za-z0-9]{16}$' <<<"$OUT" | head -n 1)
		if [[ $RC -eq 0 && -n $pw ]]; then
			ok "R11: hd1 sets a 16-character temporary password for $u"
		else
			not_ok "R11: hd1 sets a 16-character temporary password for $u"
		fi
		if chage -l "$u" | grep -q 'must be changed'; then
			ok "R11: the change is forced at the first login"
		else
			OUT=$(chage -l "$u"); not_ok "R11: the change is forced at the first login"
		fi
		h=$(getent shadow "$u" | cut -d: -f2)
		if [[ -n $pw ]] && python3 -c 'import crypt,sys; sys.exit(0 if crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2] else 1)' "$pw" "$h" 2>/dev/null; then
			ok "R11: the password works (its hash is in /etc/shadow)"
		else
			not_ok "R11: the password works (its hash is in /etc/shadow)"
		fi
	else
		skip_dep "R11: temporary password on a real local account" "ZM_TEST_SYSTEM_ACCOUNTS=1 but useradd failed"
		skip_dep "R11: the change is forced at the first login" "useradd failed"
		skip_dep "R11: the password works" "useradd failed"
	fi
fi
check "no audit record holds a password" \
    test "$(audit_count '"detail": ?"[A-Za-z0-9]{16}"')" -eq 0

stop_daemon_ok
done_testing
