#!/bin/bash
# it_card_removal.sh - R4: pulling the card ends or locks the session
# opened with it, through the real pcscd (private, vpcd reader), the
# virtual card tests/vcard, the real libpam and pam_zonemfa.so and the real
# zonemfa-tokend watching the readers with SCardGetStatusChange.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pcscd.sh"
zm_setup
pcscd_require
VCARD2_PID=""
trap 'kill -TERM $VCARD2_PID 2>/dev/null; pcsc_cleanup; zm_cleanup' EXIT

# lock_command: a script that writes its arguments to a marker file.
LOCK_MARK=$ZM_DIR/locked
cat >"$ZM_DIR/lock-session" <<EOF
#!/bin/sh
[ -e "$ZM_DIR/lock-fails" ] && exit 1
echo "\$@" >>"$LOCK_MARK"
EOF
chmod 0755 "$ZM_DIR/lock-session"
sed -i 's/^pcsc = no$/pcsc = yes/' "$ZM_CONF"
sed -i "s|^name = test-term\$|&\nlock_command = $ZM_DIR/lock-session %u --session %s|" "$ZM_CONF"
# mynumber: logout; lgwan: lock; kiosk: none.
sed -i 's/^\[zone mynumber\]$/&\ncard_removal = logout/; s/^\[zone lgwan\]$/&\ncard_removal = lock/' "$ZM_CONF"
cat >>"$ZM_CONF" <<EOF

[zone kiosk]
require = knowledge possession
methods = card
password = stack
card_removal = none
EOF
write_service kiosk kiosk

pcscd_start || bail_out "private pcscd did not start: $(tail -n 5 "$ZM_DIR/pcsc/pcscd.log")"
start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
vcard_start "$ZM_DIR/cardA" --profile piv --alg ec || bail_out "card A not seen"
printf '123456\n' | ZM_AS=hd1 zm_exec "$ZM_ENROLL" -c "$ZM_CONF" card alice >/dev/null 2>&1 ||
    bail_out "cannot enrol card A for alice"

# last_session USER: the id of USER's last session_open in the audit log.
last_session() {
	grep -E "$(jf event session_open)" "$ZM_AUDIT_LOG" | grep -E "$(jf user "$1")" |
	    tail -n 1 | sed -n 's/.*"detail": *"session \([0-9]*\) .*/\1/p'
}

# wait_file FILE [SECONDS]: until FILE exists (0) or the time is up (1).
wait_file() {
	local i n=$((${2:-3} * 50))
	for ((i = 0; i < n; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.02
	done
	return 1
}

held_alive() { kill -0 "$HELD_PID" 2>/dev/null; }

end_held() {
	kill -HUP "$HELD_PID" 2>/dev/null
	wait_held 5 >/dev/null
}

# ---- logout (zone mynumber)
if start_held mynumber alice "$(password alice)" 123456; then
	ok "alice's card session at mynumber (card_removal = logout) is open"
else
	not_ok "alice's card session at mynumber (card_removal = logout) is open"
fi
SID=$(last_session alice)
vcard_remove || bail_out "card A not removed"
if wait_held 3; then
	ok "R4: pulling the card ends the session (logout)"
else
	not_ok "R4: pulling the card ends the session (logout)"
fi
expect_match 'SESSION ENDED signal=1' "the session process got SIGHUP (the session-ending path)"
wait_audit 1 "$(jf event card_removed)" "session $SID reader " || true
wait_audit 1 "$(jf event session_end)" "session $SID " || true
check "R4 R15: the removal is audited: card_removed, ok, logout, session $SID" \
    test "$(audit_count "$(jf event card_removed)" "$(jf user alice)" "$(jf result ok)" \
    "$(jf reason logout)" "session $SID reader ")" -eq 1
check "the ended session is audited as session_end, reason card_removed" \
    test "$(audit_count "$(jf event session_end)" "$(jf reason card_removed)" "session $SID ")" -eq 1
check "no lock command ran for a logout zone" test ! -e "$LOCK_MARK"

# ---- lock (zone lgwan): lock_command with %u and %s
vcard_insert || bail_out "card A not back"
if start_held lgwan alice "$(password alice)" 123456; then
	ok "alice's card session at lgwan (card_removal = lock) is open"
else
	not_ok "alice's card session at lgwan (card_removal = lock) is open"
fi
SID=$(last_session alice)
vcard_remove || bail_out "card A not removed"
if wait_file "$LOCK_MARK" 3; then
	ok "R4: pulling the card runs lock_command"
else
	not_ok "R4: pulling the card runs lock_command"
fi
OUT=$(cat "$LOCK_MARK" 2>/dev/null)
CMD="cat $LOCK_MARK"
expect_match "^alice --session $SID\$" "lock_command got %u = alice and %s = session $SID, split on spaces"
if held_alive; then ok "a lock leaves the session running"; else not_ok "a lock leaves the session running"; fi
wait_audit 1 "$(jf event card_removed)" "session $SID " || true
check "R4 R15: card_removed audited with action lock, ok" \
    test "$(audit_count "$(jf event card_removed)" "$(jf result ok)" "$(jf reason lock)" "session $SID ")" -eq 1
end_held
rm -f "$LOCK_MARK"

# ---- a lock that fails is audited as failed
touch "$ZM_DIR/lock-fails"
vcard_insert || bail_out "card A not back"
start_held lgwan alice "$(password alice)" 123456 || bail_out "lgwan session did not open"
SID=$(last_session alice)
vcard_remove || bail_out "card A not removed"
for i in $(seq 150); do
	[[ $(audit_count "$(jf event card_removed)" "session $SID ") -ge 1 ]] && break
	sleep 0.02
done
check "R4 R15: a lock_command that fails is audited card_removed, fail, lock" \
    test "$(audit_count "$(jf event card_removed)" "$(jf result fail)" "$(jf reason lock)" "session $SID .*lock_command failed")" -eq 1
end_held
rm -f "$ZM_DIR/lock-fails" "$LOCK_MARK"

# ---- none (zone kiosk)
vcard_insert || bail_out "card A not back"
if start_held kiosk alice "$(password alice)" 123456; then
	ok "alice's card session at kiosk (card_removal = none) is open"
else
	not_ok "alice's card session at kiosk (card_removal = none) is open"
fi
SID=$(last_session alice)
vcard_remove || bail_out "card A not removed"
sleep 1
if held_alive; then ok "card_removal = none: the session goes on"; else not_ok "card_removal = none: the session goes on"; fi
check "card_removal = none: no lock command" test ! -e "$LOCK_MARK"
wait_audit 1 "$(jf event card_removed)" "session $SID " || true
check "card_removal = none is audited too (action none)" \
    test "$(audit_count "$(jf event card_removed)" "$(jf reason none)" "session $SID ")" -eq 1
end_held

# ---- a card no session used: nothing happens
vcard_insert || bail_out "card A not back"
if start_held lgwan alice "$(password alice)" 123456; then
	ok "alice's lgwan session (card A) is open again"
else
	not_ok "alice's lgwan session (card A) is open again"
fi
SID=$(last_session alice)
n0=$(audit_count "$(jf event card_removed)")
"$ZM_VCARD" --port $((VPCD_PORT + 1)) --state "$ZM_DIR/cardB" --profile piv --alg ec \
    2>>"$ZM_DIR/vcard.log" &
VCARD2_PID=$!
# wait_log ERE: until the daemon's log has a line matching ERE (5 s).
wait_log() {
	local i
	for i in $(seq 250); do
		grep -Eq "$1" "$ZM_DIR/tokend.log" && return 0
		sleep 0.02
	done
	return 1
}
wait_log 'reader .* 01: card present'
check "the daemon sees card B arrive in the second reader" test $? -eq 0
kill -USR1 "$VCARD2_PID"
wait_log 'reader .* 01: empty, card event [1-9]'
check "the daemon sees card B leave" test $? -eq 0
sleep 0.3
check "R4: card B (in the second reader, used by no session) leaving does nothing" \
    test "$(audit_count "$(jf event card_removed)")" -eq "$n0" -a ! -e "$LOCK_MARK"
if held_alive; then ok "alice's session is untouched by card B"; else not_ok "alice's session is untouched by card B"; fi
kill -TERM "$VCARD2_PID" 2>/dev/null
wait "$VCARD2_PID" 2>/dev/null
VCARD2_PID=""

# A login whose session is over binds its card too: pulling it acts on no session.
run_login mynumber alice "$(password alice)" 123456
expect_match '^session: PAM_SUCCESS' "a short card session at mynumber opens and closes"

# ---- the daemon restarts (R4): the bindings are kept in the registry and
# the watch re-armed at start-up.  Negative first: the card stays in, so
# alice's lgwan session (held since above) stays open and nothing locks.
stop_daemon
start_daemon || bail_out "zonemfa-tokend did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
wait_log "card of token [0-9]+ still in .* after the restart: watched again"
check "R4: after a daemon restart the kept binding is checked: the card never left, watched again" test $? -eq 0
sleep 3.5	# longer than the re-verification window
if held_alive; then
	ok "R4: a session whose card is still inserted stays open after the daemon restart"
else
	not_ok "R4: a session whose card is still inserted stays open after the daemon restart"
fi
check "R4: nothing locked over the daemon restart (the card stayed in)" test ! -e "$LOCK_MARK"
check "R4: no card_removed for session $SID over the daemon restart" \
    test "$(audit_count "$(jf event card_removed)" "session $SID ")" -eq 0

# ---- pcscd killed and restarted mid-run
pcscd_stop
sleep 1
run_login lgwan alice "$(password alice)" 123456
expect_match '^auth: PAM_AUTH_ERR' "with pcscd gone a card login is refused"
check "the daemon logs the lost pcscd once" \
    test "$(grep -c 'pcscd cannot be reached: card logins refused' "$ZM_DIR/tokend.log")" -eq 1
if kill -0 "$ZM_DAEMON_PID" 2>/dev/null; then ok "the daemon runs on without pcscd"; else not_ok "the daemon runs on without pcscd"; fi
pcscd_start || bail_out "private pcscd did not start again"
"$ZM_PCSC_WAIT" present 5000
for i in $(seq 150); do
	grep -q 'pcscd is back' "$ZM_DIR/tokend.log" && break
	sleep 0.05
done
check "the daemon sees pcscd back (watcher re-established)" grep -q 'pcscd is back' "$ZM_DIR/tokend.log"
sleep 3.5	# longer than the re-verification window
if held_alive; then
	ok "the card back in its reader after the restart keeps the session"
else
	not_ok "the card back in its reader after the restart keeps the session"
fi
check "no lock ran over the restart (the same card came back)" test ! -e "$LOCK_MARK"
run_login mynumber alice "$(password alice)" 123456
expect_match '^auth: PAM_SUCCESS' "after pcscd restarted a card login works again"
vcard_remove
if wait_file "$LOCK_MARK" 3; then
	ok "R4: after the restart, pulling the card still locks the session"
else
	not_ok "R4: after the restart, pulling the card still locks the session"
fi
OUT=$(cat "$LOCK_MARK" 2>/dev/null)
expect_match "^alice --session $SID\$" "the lock names the lgwan session $SID"
end_held
rm -f "$LOCK_MARK"

# ---- R4 across a daemon restart: a session opened with the card before
# the restart is ended when the card is pulled after it.
vcard_insert || bail_out "card A not back"
if start_held mynumber alice "$(password alice)" 123456; then
	ok "alice's card session at mynumber (logout) is open before the daemon restart"
else
	not_ok "alice's card session at mynumber (logout) is open before the daemon restart"
fi
SID=$(last_session alice)
stop_daemon
start_daemon || bail_out "zonemfa-tokend did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
for i in $(seq 150); do
	[[ $(grep -c 'after the restart: watched again' "$ZM_DIR/tokend.log") -gt 1 ]] && break
	sleep 0.02
done
check "the restarted daemon watches the card of session $SID again" \
    test "$(grep -c 'after the restart: watched again' "$ZM_DIR/tokend.log")" -ge 2
if held_alive; then ok "the session survived the daemon restart"; else not_ok "the session survived the daemon restart"; fi
vcard_remove || bail_out "card A not removed"
if wait_held 5; then
	ok "R4: pulling the card after a daemon restart ends the session opened before it (logout)"
else
	not_ok "R4: pulling the card after a daemon restart ends the session opened before it (logout)"
fi
wait_audit 1 "$(jf event card_removed)" "session $SID reader " || true
check "R4 R15: audited card_removed, ok, logout, session $SID (after the restart)" \
    test "$(audit_count "$(jf event card_removed)" "$(jf result ok)" "$(jf reason logout)" "session $SID reader ")" -eq 1
check "R4: the session ended after the restart is audited session_end, reason card_removed" \
    test "$(audit_count "$(jf event session_end)" "$(jf reason card_removed)" "session $SID ")" -eq 1

# ---- the card pulled while the daemon is down: nobody saw it leave, the
# counter moved on; the restarted daemon ends the session (fail closed).
vcard_insert || bail_out "card A not back"
start_held mynumber alice "$(password alice)" 123456 || bail_out "mynumber session did not open"
SID=$(last_session alice)
stop_daemon
vcard_remove || bail_out "card A not removed"
vcard_insert || bail_out "card A not back"
start_daemon || bail_out "zonemfa-tokend did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
if wait_held 6; then
	ok "R4: a card pulled (and put back) while the daemon was down ends the session at start-up"
else
	not_ok "R4: a card pulled (and put back) while the daemon was down ends the session at start-up"
fi
wait_audit 1 "$(jf event card_removed)" "session $SID reader " || true
check "R4 R15: audited card_removed, logout, session $SID" \
    test "$(audit_count "$(jf event card_removed)" "$(jf reason logout)" "session $SID reader ")" -eq 1
check "the daemon logs why: the card changed while it was down" \
    grep -q 'changed while the daemon was down' "$ZM_DIR/tokend.log"

stop_daemon_ok
done_testing
