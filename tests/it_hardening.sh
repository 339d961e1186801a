#!/bin/bash
# it_hardening.sh - process and file hygiene (R14): the daemon and the
# tools keep their memory out of core files; the daemon refuses unsafe
# modes on the audit log, the store and the key (and their directories);
# the PAM module refuses a repeated argument (fails closed).
. "$(dirname "$0")/lib.sh"
zm_setup

# core_limit PID: the "Max core file size" soft and hard limits of PID.
core_limit() {
	awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"
}

# wait_owner_root PID: 0 once /proc/PID/status belongs to uid 0 (5 s at most):
# the kernel hands the /proc files of a non-dumpable process to root.
wait_owner_root() {
	local i
	for i in $(seq 250); do
		[[ $(stat -c %u "/proc/$1/status" 2>/dev/null) == 0 ]] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# ---- no core files (R14): whatever limit the daemon was started with
ulimit -S -c unlimited 2>/dev/null || ulimit -c unlimited
start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
CMD="awk 'Max core file size' /proc/$ZM_DAEMON_PID/limits"
OUT=$(core_limit "$ZM_DAEMON_PID")
RC=0
check "R14: the daemon's core file size limit is 0, soft and hard (started with unlimited)" \
    test "$OUT" = "0 0"
stop_daemon_ok

# A daemon running as a user other than root shows whether it made itself
# non-dumpable: its /proc files then belong to root, not to that user.
alt=$ZM_DIR/alt
mkdir -m 0700 "$alt" && chown "${ZM_UID[alice]}:${ZM_UID[alice]}" "$alt"
sed -e "s|^socket = .*|socket = $alt/tokend.sock|" \
    -e "s|^key_file = .*|key_file = $alt/registry.key|" \
    -e "s|^store = .*|store = sqlite:$alt/registry.db|" \
    -e "s|^audit_log = .*|audit_log = $alt/audit.log|" "$ZM_CONF" >"$ZM_DIR/alt.conf"
chmod 0644 "$ZM_DIR/alt.conf"
setpriv --reuid="${ZM_UID[alice]}" --regid="${ZM_UID[alice]}" --clear-groups -- \
    env LD_PRELOAD="$ZM_NSS_PRELOAD" "$ZM_TOKEND" -f -c "$ZM_DIR/alt.conf" \
    </dev/null >"$ZM_DIR/alt.log" 2>&1 &
alt_pid=$!
for _ in $(seq 250); do
	[[ -S $alt/tokend.sock ]] && break
	kill -0 "$alt_pid" 2>/dev/null || break
	sleep 0.02
done
CMD="zonemfa-tokend as alice (pid $alt_pid)"
OUT=$(cat "$ZM_DIR/alt.log"; ls -ln "/proc/$alt_pid/status" 2>&1)
RC=""
check "the daemon runs as a user other than root for this check" test -S "$alt/tokend.sock"
check "R14: the daemon is not dumpable (PR_SET_DUMPABLE 0: /proc/PID/status belongs to root)" \
    wait_owner_root "$alt_pid"
kill -TERM "$alt_pid" 2>/dev/null
wait "$alt_pid" 2>/dev/null

# The enrolment tool holds PINs and one-time secrets: the same for it,
# caught while it waits for the card PIN on its standard input.
mkfifo "$ZM_DIR/pin.fifo"
exec 7<>"$ZM_DIR/pin.fifo"
setpriv --reuid="${ZM_UID[hd1]}" --regid="${ZM_UID[hd1]}" --clear-groups -- \
    env LD_PRELOAD="$ZM_NSS_PRELOAD" "$ZM_ENROLL" -c "$ZM_CONF" card alice \
    <"$ZM_DIR/pin.fifo" >"$ZM_DIR/enroll.out" 2>&1 &
tool_pid=$!
CMD="zonemfa-enroll card alice as hd1 (pid $tool_pid), waiting for the PIN"
OUT=""
check "R14: zonemfa-enroll is not dumpable while it waits for a PIN" \
    wait_owner_root "$tool_pid"
OUT=$(core_limit "$tool_pid")
check "R14: zonemfa-enroll's core file size limit is 0" test "$OUT" = "0 0"
kill -TERM "$tool_pid" 2>/dev/null
wait "$tool_pid" 2>/dev/null
exec 7>&-
ulimit -S -c 0

# ---- unsafe file modes (R14, R15): the daemon refuses to start (exit 2)
# naming the path and the mode; -t reports the same.
# tokend_fg: the daemon in the foreground, 5 s at most (it should exit).
tokend_fg() {
	run timeout 5 env LD_PRELOAD="$ZM_NSS_PRELOAD" "$ZM_TOKEND" -f -c "$ZM_CONF"
}
# refused DESC ERE: the daemon and -t both refuse, naming ERE.
refused() {
	tokend_fg
	expect_rc 2 "$1: the daemon refuses to start (exit 2)"
	expect_match "$2" "$1: the message names the path and the mode"
	run zm_tokend -t -c "$ZM_CONF"
	expect_rc 2 "$1: zonemfa-tokend -t reports it (exit 2)"
	expect_match "$2" "$1: -t names the path and the mode"
}
db=$ZM_DIR/registry.db
key=$ZM_DIR/registry.key
check "the first start made the store 0600" test "$(stat -c %a "$db")" = 600
check "and the audit log 0640" test "$(stat -c %a "$ZM_AUDIT_LOG")" = 640
run zm_tokend -t -c "$ZM_CONF"
expect_rc 0 "-t accepts the files as the daemon left them"

chmod 0666 "$ZM_AUDIT_LOG"
refused "a world-writable audit log" "$ZM_AUDIT_LOG: the audit log has mode 0666: writable by group or others"
chmod 0640 "$ZM_AUDIT_LOG"

chmod 0604 "$db"
refused "a world-readable store (0604)" "$db: the store has mode 0604: group or others may read"
chmod 0600 "$db"

touch "$db-wal" && chmod 0644 "$db-wal"
refused "a readable store -wal file" "$db-wal: the store has mode 0644"
rm -f "$db-wal"

chmod 0640 "$key"
refused "a group-readable key file" "$key: the key file has mode 0640"
chmod 0600 "$key"

chown "${ZM_UID[alice]}" "$ZM_AUDIT_LOG"
refused "an audit log owned by another user" "$ZM_AUDIT_LOG: the audit log is owned by uid ${ZM_UID[alice]}"
chown 0 "$ZM_AUDIT_LOG"

chmod 0777 "$ZM_DIR"
refused "a world-writable directory" "$ZM_DIR: directory of the (key file|store|audit log) has mode 0777"
chmod 1777 "$ZM_DIR"
run zm_tokend -t -c "$ZM_CONF"
expect_rc 0 "a world-writable directory with the sticky bit (like /tmp) is accepted"
chmod 0755 "$ZM_DIR"

start_daemon
check "with the modes restored the daemon starts again" test "$RC" = 0

# ---- a repeated PAM module argument is a configuration error: which zone
# was meant?  (Taking the last one let "zone=lgwan zone=internet" log in
# with the password alone.)  Fail closed, like any bad argument.
run_login internet bob "$(password bob)"
expect_match '^auth: PAM_SUCCESS' "bob logs in at internet with the password alone (the control)"
write_service dupzone "lgwan zone=internet"
run_login dupzone bob "$(password bob)"
expect_match '^auth: PAM_AUTHINFO_UNAVAIL' "'zone=lgwan zone=internet' is refused (PAM_AUTHINFO_UNAVAIL), not a password-only login"
write_service dupzone2 "internet zone=internet"
run_login dupzone2 bob "$(password bob)"
expect_match '^auth: PAM_AUTHINFO_UNAVAIL' "the same zone= twice is refused too"
write_service dupconf internet "$ZM_CONF conf=$ZM_CONF"
run_login dupconf bob "$(password bob)"
expect_match '^auth: PAM_AUTHINFO_UNAVAIL' "conf= given twice is refused"
check "no login was recorded for the refused services" \
    test "$(audit_count "$(jf event auth)" "$(jf user bob)" "$(jf result ok)")" -eq 1
stop_daemon_ok

done_testing
