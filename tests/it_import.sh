#!/bin/bash
# it_import.sh - the April personnel change (異動): `zonemfa-enroll import
# FILE` applies a CSV from the personnel system in one transaction (R5
# leavers' tokens revoked and sessions ended, R10 separation of duties
# for every row, R15 every row audited); a file with one bad row, or a
# dry run, changes nothing.
. "$(dirname "$0")/lib.sh"
zm_setup
start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_A || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_B || bail_out "cannot enrol bob: $OUT"
F=$ZM_DIR/jinji.csv
chmod 0755 "$ZM_DIR"

# The registry as it matters here: token states, disabled flags.
state() {
	zm_sql "SELECT user || ':' || state || ':' || revoke_reason FROM tokens ORDER BY id"
	zm_sql "SELECT name || ':' || disabled FROM users ORDER BY name"
}
import_count() { audit_count "$(jf event import)" "$(jf result ok)"; }

if start_held lgwan bob "$(password bob)" "$(totp_code "$S_B")"; then
	ok "bob's session is open (zm-login --hold)"
else
	not_ok "bob's session is open (zm-login --hold)"
fi
BEFORE=$(state)

# A file from the personnel system: UTF-8 with a byte order mark (as
# spreadsheets save it), CRLF, a quoted comment with a comma.
printf '\xef\xbb\xbfuser,action,groups,comment\r\n' >"$F"
cat >>"$F" <<'CSV'
carol,add,lgwan-staff,新規採用 市民課
alice,move,lgwan-staff mynumber-staff,"税務課へ異動, 4月1日付"

bob,leave,,退職
CSV
chmod 0644 "$F"

run as_user hd1 zm_enroll import --dry-run "$F"
expect_rc 0 "dry run: exit 0"
expect_match '^line 5: leave bob: would revoke 1 tokens' "dry run: says what would happen to the leaver, with the line"
expect_match '^line 2: add carol: would register' "dry run: says what would happen to the new staff"
expect_match 'dry run, nothing changed: 3 rows: add 1, move 1, leave 1' "dry run: summary counts per action"
check "dry run: the registry is unchanged" test "$(state)" == "$BEFORE"
check "dry run: no import is audited as done" test "$(import_count)" -eq 0
check "dry run: bob's session still runs" kill -0 "$HELD_PID"

# One bad row: the whole file is refused with the line, nothing changes.
sed 's/^alice,move,/alice,transfer,/' "$F" >"$F.bad"
chmod 0644 "$F.bad"
run as_user hd1 zm_enroll import "$F.bad"
expect_rc 1 "a file with a bad row: exit 1"
expect_match "^line 3: - alice: unknown action 'transfer'" "the bad row is named by its line number"
expect_match 'import refused, nothing changed: 1 bad rows of 3, first at line 3' "the refusal says nothing changed"
check "a bad row: the registry is unchanged (bob's token, carol not added)" test "$(state)" == "$BEFORE"
check "a bad row: the refusal is audited" \
    test "$(audit_count "$(jf event import)" "$(jf result refused)" "$(jf operator hd1)")" -eq 1
printf 'user,action,groups\nnosuchuser,add,x\ncarol,add,"unterminated\n' >"$F.bad2"
chmod 0644 "$F.bad2"
run as_user hd1 zm_enroll import "$F.bad2"
expect_rc 1 "unknown user and malformed CSV: exit 1"
expect_match '^line 2: add nosuchuser: no such user nosuchuser' "an unknown user is reported with its line"
expect_match '^line 3: .*malformed CSV' "malformed CSV is reported with its line"
printf 'name,action\nbob,leave\n' >"$F.bad3"
chmod 0644 "$F.bad3"
run as_user hd1 zm_enroll import "$F.bad3"
expect_rc 1 "a file without the header: exit 1"
expect_match 'line 1: the first line must be the header' "the header is required"

# A move names the groups the directory still has but the file dropped
# (carol is in wheel in the test directory).
printf 'user,action,groups\ncarol,move,lgwan-staff\n' >"$F.move"
chmod 0644 "$F.move"
run as_user hd1 zm_enroll import --dry-run "$F.move"
expect_match "^line 2: move carol: .*set them to 'lgwan-staff'; remove from: wheel$" "a move lists the directory groups to remove"

# R10: an operator listed as a leaver in their own file: that row is
# refused and so is the whole import.
{ cat "$F"; echo "hd1,leave,,自分"; } >"$F.self"
chmod 0644 "$F.self"
run as_user hd1 zm_enroll import "$F.self"
expect_rc 1 "R10: hd1 importing their own leave: exit 1"
expect_match '^line 6: leave hd1: separation of duties' "R10: the operator's own row is named"
check "R10: nothing of the file was applied" test "$(state)" == "$BEFORE"
# A helpdesk operator may not act on another staff account either.
printf 'user,action,groups\nhd2,leave,\n' >"$F.staff"
chmod 0644 "$F.staff"
run as_user hd1 zm_enroll import "$F.staff"
expect_rc 1 "R10: hd1 may not make helpdesk colleague hd2 a leaver"
# Not an operator at all.
run as_user alice zm_enroll import "$F"
expect_rc 1 "an ordinary user may not import"
check "...and nothing changed" test "$(state)" == "$BEFORE"

# The good file, for real.
run as_user hd1 zm_enroll import "$F"
expect_rc 0 "the good file is applied: exit 0"
expect_match '^line 5: leave bob: revoked 1 tokens \[[0-9]+\] \(leaver\), disabled' "the leaver's row says what was done"
expect_match "^line 3: move alice: zone access groups are the directory's" "a move is a notice: groups live in the directory"
expect_match '3 rows: add 1, move 1, leave 1; sessions ended 1' "summary: counts per action and sessions ended"
check "R5: bob's token is revoked with reason leaver" \
    test "$(zm_sql "SELECT state || revoke_reason FROM tokens WHERE user = 'bob'")" == "1leaver"
check "bob is disabled" test "$(zm_sql "SELECT disabled FROM users WHERE name = 'bob'")" -eq 1
check "carol is registered" test "$(zm_sql "SELECT count(*) FROM users WHERE name = 'carol' AND disabled = 0")" -eq 1
check "alice's token is untouched" test "$(zm_sql "SELECT state FROM tokens WHERE user = 'alice'")" -eq 0
if wait_held 5; then
	ok "R5: bob's running session ended"
else
	not_ok "R5: bob's running session ended"
fi
check "R15: every row is audited (event import, operator hd1)" \
    test "$(audit_count "$(jf event import)" "$(jf result ok)" "$(jf operator hd1)")" -eq 3
check "R15: the leaver's row names the line" \
    test "$(audit_count "$(jf event import)" "$(jf user bob)" "$(jf reason leave)" "line 5")" -eq 1
check "R15: the revocation is audited as such" \
    test "$(audit_count "$(jf event revoke)" "$(jf user bob)" "$(jf reason leaver)" "$(jf operator hd1)")" -eq 1
check "R15: the registry's audit-pending marks are cleared once the records are written" \
    test "$(zm_sql "SELECT (SELECT count(*) FROM tokens WHERE audit_pending <> 0) + (SELECT count(*) FROM users WHERE audit_pending <> 0)")" -eq 0
check "R15: the ended session is audited" \
    test "$(audit_count "$(jf event session_end)" "$(jf user bob)" "$(jf result ok)")" -eq 1
run_login lgwan bob "$(password bob)" "$(totp_code "$S_B" 30)"
expect_match '^auth: PAM_AUTH_ERR' "the leaver cannot log in"

run zm_audit verify
expect_rc 0 "R15: the audit chain verifies"
stop_daemon_ok
done_testing
