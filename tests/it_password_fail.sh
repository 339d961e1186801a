#!/bin/bash
# it_password_fail.sh - R13: wrong passwords count toward the same lockout
# as wrong codes (pam_faillock's preauth/authfail pattern), exactly under
# concurrency; a locked account is refused before the password is asked.
. "$(dirname "$0")/lib.sh"
zm_setup

LOCKED='locked until|Account locked'

# The stack of contrib/pam.d: preauth, the password, authfail, factors.
fl_service() {
	local name=$1 zone=$2 args="conf=$ZM_CONF zone=$2"
	cat >"$ZM_PAMD/$name" <<EOF
auth	requisite			$ZM_MODULE $args preauth
auth	[success=1 default=bad]		$PAM_MATRIX passdb=$ZM_DIR/passdb
auth	[default=die]			$ZM_MODULE $args authfail
auth	required			$ZM_MODULE $args
account	required			$ZM_MODULE $args
session	required			$ZM_MODULE $args
EOF
}
fl_service fl-lgwan lgwan
# A zone with a high limit for the concurrency count.
cat >>"$ZM_CONF" <<EOF

[zone many]
require = knowledge possession
methods = totp
password = stack
max_failures = 1000
lockout = 30m
EOF
fl_service fl-many many

sql() { ZM_DB=${DB:-} zm_sql "$1"; }

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_A || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_B || bail_out "cannot enrol bob: $OUT"

run_login fl-lgwan alice "$(password alice)" "$(totp_code "$S_A")"
expect_match '^auth: PAM_SUCCESS' "the preauth/authfail stack logs alice in with password and code"

# R13: lgwan max_failures = 3; wrong passwords count.
run_login fl-lgwan alice "wrong-password"
expect_match '^auth: PAM_AUTH_ERR' "a wrong password is refused"
expect_no_match '^PROMPT: .*(code|コード)' "the code is not asked after a wrong password"
check "R13: the wrong password is counted (failures 1)" \
    test "$(sql "SELECT failures FROM users WHERE name = 'alice'")" -eq 1
check "R15: the wrong password is audited" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result fail)" "$(jf reason 'wrong password')")" -eq 1
run_login fl-lgwan alice "wrong-password"
run_login fl-lgwan alice "wrong-password"
expect_match "$LOCKED" "R13: the third wrong password locks the account and says so"
check "the registry holds the lock" \
    test "$(sql "SELECT locked_until > 0 FROM users WHERE name = 'alice'")" -eq 1
# A locked account: refused before the password is even asked for.
run_login fl-lgwan alice "$(password alice)" "$(totp_code "$S_A" 60)"
expect_match '^auth: PAM_AUTH_ERR' "R13: the locked account is refused with the right password"
expect_match "$LOCKED" "the refusal says the account is locked"
expect_no_match '^PROMPT' "no password is asked for a locked account (preauth)"
run as_user hd1 zm_enroll unlock alice
expect_rc 0 "hd1 unlocks alice"
run_login fl-lgwan alice "$(password alice)" "$(totp_code "$S_A" 30)"
expect_match '^auth: PAM_SUCCESS' "after the unlock the right password and code log in"

# A wrong password then a wrong code: one counter.
run_login fl-lgwan alice "wrong-password"
run_login fl-lgwan alice "$(password alice)" "$(wrong_code "$S_A")"
check "R13: wrong passwords and wrong codes count in one counter" \
    test "$(sql "SELECT failures FROM users WHERE name = 'alice'")" -eq 2

# A name with no account: the same refusal, nothing stored.
run_login fl-lgwan nosuchuser "whatever"
expect_match '^auth: PAM_(AUTH_ERR|USER_UNKNOWN)' "an unknown name is refused"
check "no registry row for an unknown name" \
    test "$(sql "SELECT count(*) FROM users WHERE name = 'nosuchuser'")" -eq 0

# A non-root caller cannot report failures for someone else.
before=$(sql "SELECT failures FROM users WHERE name = 'bob'")
ZM_AS=alice run_login fl-lgwan bob "wrong-password"
expect_match '^auth: PAM_AUTH_ERR' "alice's own process failing bob's password is refused"
check "R13: alice cannot add to bob's counter" \
    test "$(sql "SELECT failures FROM users WHERE name = 'bob'")" = "$before"

# Exact under concurrency: 40 wrong passwords at once, 40 counted.
pids=()
for i in $(seq 40); do
	_zm_login_env
	printf 'wrong%s\n' "$i" | timeout 30 "${_ZM_ENV[@]}" "$ZM_LOGIN" \
	    fl-many bob >"$ZM_DIR/c.$i.out" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
refused=$(cat "$ZM_DIR"/c.*.out | grep -c '^auth: PAM_AUTH_ERR')
check "40 concurrent wrong passwords are all refused" test "$refused" -eq 40
check "R13: exactly 40 failures are counted" \
    test "$(sql "SELECT failures FROM users WHERE name = 'bob'")" -eq $((40 + ${before:-0}))

# Module arguments: preauth and authfail are one line each.
cat >"$ZM_PAMD/fl-bad" <<EOF
auth	required	$ZM_MODULE conf=$ZM_CONF zone=lgwan preauth authfail
account	required	$ZM_MODULE conf=$ZM_CONF zone=lgwan
EOF
run_login fl-bad alice "$(password alice)"
expect_match '^auth: PAM_(AUTHINFO_UNAVAIL|AUTH_ERR|SERVICE_ERR)' \
    "preauth and authfail on one line is a configuration error (fail closed)"

stop_daemon_ok
done_testing
