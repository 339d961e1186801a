#!/bin/bash
# it_auditlog.sh - R15 tamper-evident logs: `zonemfa-audit verify` finds a
# changed, deleted, inserted, reordered or truncated record and names the
# first bad one; a rotated log verifies as one chain across its files.
. "$(dirname "$0")/lib.sh"
zm_setup

start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_ALICE || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"
run_login --no-session lgwan alice "$(password alice)" "$(totp_code "$S_ALICE")"
run_login --no-session lgwan bob "$(password bob)" 000000
run_login --no-session lgwan bob "$(password bob)" "$(totp_code "$S_BOB")"

run zm_audit verify
expect_rc 0 "R15: the intact log verifies (daemon up)"
expect_match '^audit log OK: [0-9]+ records$' "verify prints the record count"
n=$(wc -l <"$ZM_AUDIT_LOG")
check "the log has at least 6 records" test "$n" -ge 6

# ---- R16: the daemon records an unsynchronised clock from its start.
# The kernel's verdict read the way the daemon reads it: adjtimex(2) with
# no modes, unsynchronised on TIME_ERROR (5) or STA_UNSYNC (0x40) in
# status (struct timex: int modes; long offset, freq, maxerror, esterror;
# int status - offset 40 on LP64).
clock=nopython
command -v python3 >/dev/null && clock=$(python3 -c '
import ctypes, struct
buf = ctypes.create_string_buffer(512)
ret = ctypes.CDLL(None, use_errno=True).adjtimex(buf)
if ret < 0 or ctypes.sizeof(ctypes.c_long) != 8:
    print("unknown")
else:
    status = struct.unpack_from("i", buf.raw, 40)[0]
    print("unsync" if ret == 5 or status & 0x40 else "sync")
' 2>/dev/null)
nclock=$(audit_count "$(jf event clock)" "$(jf result unsynchronised)")
case $clock in
unsync)
	check "R16: the clock is unsynchronised here: one 'clock unsynchronised' record since the start" \
	    test "$nclock" -eq 1
	check "R16: it comes right after the start record" \
	    grep -q '"event":"clock"' <(sed -n 2p "$ZM_AUDIT_LOG")
	;;
sync)
	check "R16: the clock is synchronised here: no 'clock' record" \
	    test "$(audit_count "$(jf event clock)")" -eq 0
	skip "R16: the record follows the start record" "the clock is synchronised"
	;;
nopython)
	skip_dep "R16: clock record" "python3 not found (it reads adjtimex(2) the way the daemon does)"
	skip_dep "R16: the record follows the start record" "python3 not found"
	;;
*)
	skip "R16: clock record" "adjtimex(2) not readable here (sandbox): nothing to compare with"
	skip "R16: the record follows the start record" "adjtimex(2) not readable here (sandbox)"
	;;
esac

L=$ZM_DIR/copy.log
variant() {	# variant DESC LINE: verify $L, expect exit 1 naming LINE
	run zm_audit verify "$L"
	expect_rc 1 "R15: a $1 record is detected (exit 1)"
	expect_match "TAMPERED: first bad record at line $2 " "R15: the $1 record is named (line $2)"
}
sed '3s/"result":"[a-z]*"/"result":"xx"/' "$ZM_AUDIT_LOG" >"$L"
cmp -s "$L" "$ZM_AUDIT_LOG" && bail_out "the change did not change anything"
# A changed record still parses: the next one's prev gives it away, and
# the one after still chains to that next one, so line 3 itself is named.
variant changed 3
sed '3d' "$ZM_AUDIT_LOG" >"$L"
variant deleted 3
sed '2p' "$ZM_AUDIT_LOG" >"$L"
variant inserted 3
awk 'NR == 3 { h = $0; next } NR == 4 { print; print h; next } { print }' "$ZM_AUDIT_LOG" >"$L"
cmp -s "$L" "$ZM_AUDIT_LOG" && bail_out "the reordering did not change anything"
variant reordered 3

# ---- rotation: two files, one chain
head -n 3 "$ZM_AUDIT_LOG" >"$ZM_DIR/rot.1"
tail -n +4 "$ZM_AUDIT_LOG" >"$ZM_DIR/rot.2"
run zm_audit verify "$ZM_DIR/rot.1" "$ZM_DIR/rot.2"
expect_rc 0 "R15: a log split in two files verifies as one chain"
expect_match "^audit log OK: $n records\$" "all $n records are counted across the files"
run zm_audit verify "$ZM_DIR/rot.2" "$ZM_DIR/rot.1"
expect_rc 1 "R15: files in the wrong order are refused"
head -n 2 "$ZM_AUDIT_LOG" >"$ZM_DIR/rot.1"
run zm_audit verify "$ZM_DIR/rot.1" "$ZM_DIR/rot.2"
expect_rc 1 "R15: a record missing at a file boundary is detected"

# ---- rotation by the daemon (SIGHUP): the new file continues the chain
mv "$ZM_AUDIT_LOG" "$ZM_DIR/audit.log.1"
kill -HUP "$ZM_DAEMON_PID"
sleep 0.3
run_login --no-session lgwan alice "$(password alice)" "$(totp_code "$S_ALICE" 30)"
run zm_audit verify "$ZM_DIR/audit.log.1" "$ZM_AUDIT_LOG"
expect_rc 0 "R15: after a daemon log rotation both files verify as one chain"
run zm_audit verify
expect_rc 0 "the new file alone verifies (its start is taken from the rotation)"

# ---- truncation at the end: only the daemon's head shows it
cp "$ZM_AUDIT_LOG" "$ZM_DIR/full.log"
head -n -1 "$ZM_DIR/full.log" >"$ZM_AUDIT_LOG"
run zm_audit verify
expect_rc 1 "R15: a record cut off the end is detected against the daemon's head"
expect_match 'TAMPERED: truncated' "the message says the log was truncated"
cp "$ZM_DIR/full.log" "$ZM_AUDIT_LOG"
run zm_audit verify
expect_rc 0 "the restored log verifies again"
run as_user alice zm_audit verify
expect_rc 1 "a non-admin cannot read the log (exit 1)"
# The chain head is the audit log's: root and admin_group only (SPEC).
run as_user hd1 python3 "$top_srcdir/tests/ipc_raw.py" "$ZM_SOCK" 0x29
expect_match '^status 7$' "the helpdesk may not read the audit chain head (PERM)"
run as_user adm1 python3 "$top_srcdir/tests/ipc_raw.py" "$ZM_SOCK" 0x29
expect_match '^status 0$' "admin_group reads the audit chain head"

stop_daemon_ok
run zm_audit verify
expect_rc 0 "with the daemon down the log still verifies"
expect_match 'not reachable' "verify says the end cannot be checked without the daemon"
done_testing
