#!/bin/bash
# it_fido2_async.sh - a security key never holds the daemon (issue 8):
# the key conversation runs beside the event loop, bounded by
# fido_timeout, and the PIN goes to the key that holds the credential.
# Real libpam, pam_zonemfa.so, the daemon, libfido2 and tests/fido_sw
# (--no-touch: nobody touches it; --hang: it answers nothing at all).
. "$(dirname "$0")/lib.sh"
zm_setup

FIDO_SW=$top_builddir/tests/fido_sw
[[ -x $FIDO_SW ]] || skip_all "not built: $FIDO_SW"
SOCK1=$ZM_DIR/key1.sock
SOCK2=$ZM_DIR/key2.sock
declare -A KEY_PID=()
BOUND=4			# fido_timeout of this test, seconds

# plug SOCK STATE [fido_sw options]: that key is plugged in at SOCK.
plug() {
	local sock=$1 st=$2 i
	shift 2
	unplug "$sock"
	"$FIDO_SW" --socket "$sock" --state "$ZM_DIR/$st.state" "$@" \
	    >>"$ZM_DIR/fido_sw.log" 2>&1 &
	KEY_PID[$sock]=$!
	ZM_HELD_PIDS="$ZM_HELD_PIDS ${KEY_PID[$sock]}"
	for i in $(seq 100); do
		[[ -S $sock ]] && return 0
		sleep 0.02
	done
	bail_out "fido_sw did not start"
}

unplug() {
	local sock=$1
	if [[ -n ${KEY_PID[$sock]:-} ]]; then
		kill -TERM "${KEY_PID[$sock]}" 2>/dev/null
		wait "${KEY_PID[$sock]}" 2>/dev/null
		KEY_PID[$sock]=""
	fi
	rm -f "$sock"
}

ms_now() { date +%s%3N; }

# retries STATE MAX: the key's PIN tries left (no state file yet: MAX).
retries() {
	local n
	n=$(sed -n 's/^retries \([0-9]*\)$/\1/p' "$ZM_DIR/$1.state" 2>/dev/null)
	echo "${n:-$2}"
}

# bg_login SVC USER ANSWER...: a login in the background; BG_PID, BG_OUT.
bg_login() {
	local svc=$1 user=$2
	shift 2
	BG_OUT=$ZM_DIR/bg.$RANDOM.out
	printf '%s\n' "$@" >"$BG_OUT.in"
	_zm_login_env
	timeout 30 "${_ZM_ENV[@]}" "$ZM_LOGIN" "$svc" "$user" \
	    <"$BG_OUT.in" >"$BG_OUT" 2>&1 &
	BG_PID=$!
	ZM_HELD_PIDS="$ZM_HELD_PIDS $BG_PID"
}

# wait_file_match FILE ERE [SECONDS]
wait_file_match() {
	local i
	for i in $(seq $((${3:-5} * 50))); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

printf '%s\n' '' '[zone mn_nopw]' 'require = knowledge possession' \
    'methods = fido2 totp' 'password = none' 'max_failures = 5' \
    'lockout = 30m' >>"$ZM_CONF"
printf '%s\t%s\t%s\n' \
    auth required "$ZM_MODULE conf=$ZM_CONF zone=mn_nopw" \
    account required "$ZM_MODULE conf=$ZM_CONF zone=mn_nopw" \
    session required "$ZM_MODULE conf=$ZM_CONF zone=mn_nopw" \
    >"$ZM_PAMD/mn_nopw"
sed -i "/^\[tokend\]/a fido_timeout = ${BOUND}s" "$ZM_CONF"

plug "$SOCK1" keyA
start_daemon --fido-hid-socket "$SOCK1" --fido-hid-socket "$SOCK2" ||
    bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"

run as_user hd1 zm_enroll fido2 alice
expect_rc 0 "hd1 enrols alice's key"
enroll_totp bob BOB_SECRET || bail_out "cannot enrol bob's TOTP: $RC"
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_SUCCESS' "alice logs in with her key (touched)"
# bob's TOTP login with no key waiting: the yardstick (slow under ASan).
t0=$(ms_now)
run_login mynumber bob "$(password bob)" "$(totp_code "$BOB_SECRET" -30)"
base_ms=$(($(ms_now) - t0))
expect_match '^auth: PAM_SUCCESS' "bob logs in with TOTP ($base_ms ms, no key waiting)"
limit_ms=$((base_ms + 500 > 1000 ? base_ms + 500 : 1000))

# ---- (a) a key nobody touches does not hold another user's login
plug "$SOCK1" keyA --no-touch
t0=$(ms_now)
bg_login mynumber alice "$(password alice)" ""
# Past the password, at the key: the touch prompt is out, then the answer.
if wait_file_match "$BG_OUT" 'Touch your security key' 5; then
	ok "alice's login waits for a touch"
else
	not_ok "alice's login waits for a touch"
fi
sleep 0.3
t1=$(ms_now)
run_login mynumber bob "$(password bob)" "$(totp_code "$BOB_SECRET")"
t2=$(ms_now)
bob_ms=$((t2 - t1))
diag "bob's TOTP login took $bob_ms ms while alice's key waited for a touch"
expect_match '^auth: PAM_SUCCESS' "bob's TOTP login succeeds while alice's key waits"
check "bob's TOTP login takes under 1 s while alice's key waits ($bob_ms ms, limit $limit_ms)" \
    test "$bob_ms" -lt "$limit_ms"
check "alice's login is still waiting for her key when bob is in" \
    kill -0 "$BG_PID"
wait "$BG_PID"
t3=$(ms_now)
alice_ms=$((t3 - t0))
diag "alice's untouched login ended after $alice_ms ms (fido_timeout ${BOUND}s)"
OUT=$(cat "$BG_OUT")
CMD="zm-login mynumber alice (no touch)"
expect_match '^auth: PAM_AUTH_ERR' "no touch within fido_timeout: alice's login is refused"
check "refused within fido_timeout + 2 s ($alice_ms ms)" \
    test "$alice_ms" -lt $(((BOUND + 2) * 1000))
check "audit: the key did not answer within fido_timeout (not counted as a failure)" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result aborted)" \
    "$(jf reason "security key did not answer within fido_timeout \\(${BOUND}s\\)")")" -eq 1

# ---- (b) a key that answers nothing at all, not even CTAPHID_INIT
plug "$SOCK1" keyA --hang
t0=$(ms_now)
run_login mynumber alice "$(password alice)" ""
t1=$(ms_now)
hang_ms=$((t1 - t0))
diag "a key that never answers: refused after $hang_ms ms (fido_timeout ${BOUND}s)"
expect_match '^auth: PAM_AUTH_ERR' "a key that never answers: the login is refused"
expect_match 'No security key is plugged in' "she is told her key is not there (plug it in again)"
check "refused within fido_timeout + 2 s ($hang_ms ms)" \
    test "$hang_ms" -lt $(((BOUND + 2) * 1000))
check "audit: the hung key is named as not answering" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result aborted)" \
    "$(jf reason "security key did not answer within fido_timeout \\(${BOUND}s\\)")" \
    'the key did not open')" -eq 1
t0=$(ms_now)
run_login mynumber bob "$(password bob)" "$(totp_code "$BOB_SECRET" 30)"
t1=$(ms_now)
expect_match '^auth: PAM_SUCCESS' "the daemon keeps serving after the hung key ($((t1 - t0)) ms)"

# ---- (c) two keys with a PIN: the PIN goes to the one holding the credential
unplug "$SOCK1"
plug "$SOCK2" keyP --uv off --pin 4321 --pin-retries 3
run as_user hd1 zm_enroll fido2 carol
expect_rc 0 "hd1 enrols carol's key (with a PIN) at the second socket"
# The first socket: another key with another PIN, not carol's.
plug "$SOCK1" keyQ --uv off --pin 1111 --pin-retries 5
lines_before=$(wc -l <"$ZM_DIR/fido_sw.log")
run_login mn_nopw carol 4321
expect_match '^auth: PAM_SUCCESS' "carol's PIN login works with another PIN key plugged in first"
expect_match 'PIN of your security key, 3 tries left' "the prompt shows the tries of carol's key (3), not the other key's (5)"
pinlog=$(tail -n +$((lines_before + 1)) "$ZM_DIR/fido_sw.log")
check "the PIN went to carol's key" grep -qx "fido_sw $SOCK2: PIN right" <<<"$pinlog"
check "no PIN went to the other key" test "$(grep -c "fido_sw $SOCK1: PIN" <<<"$pinlog")" -eq 0
check "the other key's PIN tries are untouched (5)" test "$(retries keyQ 5)" -eq 5
run_login mn_nopw carol 9999
expect_match '^auth: PAM_AUTH_ERR' "a wrong PIN is refused"
check "the wrong PIN was counted by carol's key, not by the other" \
    test "$(retries keyP 3)" -eq 2 -a "$(retries keyQ 5)" -eq 5
run_login mn_nopw carol 4321
expect_match '^auth: PAM_SUCCESS' "the right PIN then logs carol in"

# ---- shutdown while a worker waits for a key
plug "$SOCK2" keyP --uv off --pin 4321 --pin-retries 3 --no-touch
bg_login mn_nopw carol 4321
wait_file_match "$BG_OUT" 'PIN of your security key' 5
sleep 0.5
t0=$(ms_now)
stop_daemon_ok
diag "the daemon stopped $(($(ms_now) - t0)) ms after SIGTERM with a key job running"
wait "$BG_PID" 2>/dev/null
OUT=$(cat "$BG_OUT")
CMD="zm-login mn_nopw carol (daemon stopped)"
expect_no_match '^auth: PAM_SUCCESS' "the login cut by the shutdown does not succeed"
check "the shutdown aborted the waiting login (audited)" \
    test "$(audit_count "$(jf event auth)" "$(jf user carol)" "$(jf result aborted)" \
    "$(jf reason 'connection closed before an answer')")" -ge 1

check "audit log verifies" zm_audit verify
unplug "$SOCK1"
unplug "$SOCK2"
done_testing
