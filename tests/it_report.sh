#!/bin/bash
# it_report.sh - R15 regular analysis of the audit log: `zonemfa-audit
# report` counts and lists, per zone and user, logins outside office hours
# (zonemfa.conf office_hours/office_days, local time), privileged sessions
# and their lengths (R9), lockouts (R13), attempts with revoked or
# suspended tokens (R5, R6) and temporary-code uses (R17).
# Part 1 reads a hand-written chained log with known times, so every count
# is exact; part 2 makes the same kinds of records through the real PAM
# stack and daemon.
# The number of tests, reported by a skipped run (lib.sh skip_all).
ZM_PLAN=102
. "$(dirname "$0")/lib.sh"
zm_setup
command -v python3 >/dev/null || skip_all "python3 not found"

# ---------------------------------------------------------------- part 1
export TZ=UTC
SYN=$ZM_DIR/syn.log
# mklog [FILE]: records "time event user zone result reason detail
# [terminal]" (| separated) on stdin; writes a valid hash chain to FILE
# (default $SYN), in UTF-8 as the daemon writes it.
mklog() {
	python3 -c '
import hashlib, json, sys
prev = "0" * 64
out = []
for seq, l in enumerate(sys.stdin.read().splitlines(), 1):
    f = l.split("|")
    t, ev, user, zone, res, reason, detail = f[:7]
    term = f[7] if len(f) > 7 else "t1"
    user = user.replace("<RLO>", "\u202e")   # right-to-left override
    rec = [("seq", seq), ("time", t), ("event", ev), ("user", user),
           ("zone", zone), ("terminal", term), ("result", res),
           ("reason", reason), ("methods", ""), ("operator", ""),
           ("token", ""), ("detail", detail), ("prev", prev)]
    line = "{" + ",".join(json.dumps(k) + ":" + json.dumps(v, ensure_ascii=False) for k, v in rec) + "}"
    prev = hashlib.sha256(line.encode()).hexdigest()
    out.append(line)
open(sys.argv[1], "w", encoding="utf-8").write("\n".join(out) + "\n")
' "${1:-$SYN}"
}
# 2026-11-23 is a Monday, 2026-11-28 a Saturday.
mklog <<'EOF'
2026-11-23T10:00:00.000Z|auth|alice|lgwan|ok|verified|
2026-11-23T20:00:00.000Z|auth|alice|lgwan|ok|verified|
2026-11-23T08:59:00.000Z|auth|bob|mynumber|ok|verified|
2026-11-23T09:00:00.000Z|auth|bob|mynumber|ok|verified|
2026-11-23T16:59:00.000Z|auth|bob|mynumber|ok|verified|
2026-11-23T17:00:00.000Z|auth|bob|mynumber|ok|verified|
2026-11-28T12:00:00.000Z|auth|bob|mynumber|ok|verified|
2026-11-23T11:00:00.000Z|auth|alice|lgwan|fail|wrong code|failure 1 of 3
2026-11-23T11:01:00.000Z|lock|alice|lgwan|ok|too many failures|until 2026-11-23T11:31:00Z
2026-11-23T11:02:00.000Z|lock|bob|mynumber|ok|too many failures (privileged limit)|until a helpdesk unlock
2026-11-23T12:00:00.000Z|session_open|carol|lgwan|ok||session 7 pid 100 tty - privileged
2026-11-23T12:00:01.000Z|session_open|carol|lgwan|ok||session 8 pid 101 tty -
2026-11-23T13:00:00.000Z|session_open|adm1|mynumber|ok||session 9 pid 102 tty pts/1 privileged logind
2026-11-23T13:01:05.000Z|session_close|adm1|mynumber|ok|logout|session 9
2026-11-23T14:00:02.000Z|session_end|carol|lgwan|ok|session_limit|session 7 pid 100
2026-11-23T14:30:00.000Z|session_close|carol|lgwan|ok|logout|session 8
2026-11-23T15:00:00.000Z|session_open|adm1|mynumber|ok||session 12 pid 103 tty - privileged
2026-11-23T16:00:00.000Z|session_open|carol|lgwan|ok||session 13 pid 104 tty - privileged
2026-11-23T16:00:30.000Z|session_close|carol|lgwan|ok|logout|session 13
2026-11-23T16:00:31.000Z|session_end|carol|lgwan|ok|revoked|session 13 pid 104
2026-11-23T15:10:00.000Z|auth|dave|lgwan|fail|all tokens revoked|
2026-11-23T15:11:00.000Z|clone_suspected|dave|lgwan|refused|signature counter did not increase|counter 3 stored 9; credential suspended
2026-11-23T15:12:00.000Z|auth|dave|lgwan|fail|wrong code|failure 1 of 3
2026-11-23T15:20:00.000Z|tempcode_use|erin|lgwan|ok|used|
2026-11-23T15:21:00.000Z|tempcode_use|erin|lgwan|fail|code already used|
EOF
SCONF=$ZM_DIR/syn.conf
sed -e "s#^audit_log = .*#audit_log = $SYN#" \
    -e 's/^name = test-term$/&\noffice_hours = 09:00-17:00/' "$ZM_CONF" >"$SCONF"
chmod 0644 "$SCONF"
grep -q '^office_hours = 09:00-17:00' "$SCONF" || bail_out "cannot set office_hours"

run "$ZM_AUDIT" -c "$SCONF" verify
expect_rc 0 "the hand-written log is a valid chain"
run "$ZM_AUDIT" -c "$SCONF" report
expect_rc 0 "report over the hand-written log: exit 0"

# row LABEL COLUMN: the value of COLUMN in the tally row LABEL of the
# first (ZONE) or second (USER) table, chosen by TABLE.
col() {
	awk -v table="$1" -v row="$2" -v col="$3" '
	$1 == "ZONE" || $1 == "USER" { t = $1; for (i = 1; i <= NF; i++) h[i] = $i; next }
	/^$/ { t = "" }
	t == table && $1 == row { for (i = 1; i <= NF; i++) if (h[i] == col) print $i; exit }
	' <<<"$OUT"
}
# is DESC WANT GOT
is() {
	if [[ $2 == "$3" ]]; then ok "$1"; else not_ok "$1 (want '$2', got '$3')"; fi
}
# Off hours 09:00-17:00 Mon-Fri, half open: 08:59, 17:00, 20:00 and the
# Saturday are outside; 09:00, 10:00 and 16:59 inside.
is "R15: logins per user (bob)" 5 "$(col USER bob LOGINS)"
is "R15: off-hours logins of alice: 1 (20:00)" 1 "$(col USER alice OFF-HOURS)"
is "R15: off-hours logins of bob: 3 (08:59, 17:00, Saturday)" 3 "$(col USER bob OFF-HOURS)"
is "R15: off-hours logins in zone lgwan: 1" 1 "$(col ZONE lgwan OFF-HOURS)"
is "R15: off-hours logins in zone mynumber: 3" 3 "$(col ZONE mynumber OFF-HOURS)"
is "R15: off-hours total: 4" 4 "$(col ZONE TOTAL OFF-HOURS)"
expect_match '^Logins outside office hours \(09:00-17:00 mon tue wed thu fri, local time\): 4$' \
    "the office-hours list says the window and the count"
expect_match '^  2026-11-23 20:00:00 +alice +lgwan +t1' "the 20:00 login of alice is listed"
expect_match '^  2026-11-28 12:00:00 +bob +mynumber ' "the Saturday login of bob is listed"
expect_no_match '^  2026-11-23 09:00:00 +bob' "the 09:00 login (inside) is not listed"
expect_match '^  2026-11-23 17:00:00 +bob' "17:00 (the end of the window) is outside"

is "R9: privileged sessions of carol: 2 (session 8 is not privileged)" 2 "$(col USER carol PRIV-SESSIONS)"
is "R9: privileged sessions of adm1: 2" 2 "$(col USER adm1 PRIV-SESSIONS)"
expect_match '^Privileged sessions: 4$' "R9: four privileged sessions listed"
expect_match '^  2026-11-23 12:00:00 +carol +lgwan +7 +2:00:02 +session_limit$' \
    "R9: carol's session 7 lasted 2:00:02 and was ended by the limit"
expect_match '^  2026-11-23 13:00:00 +adm1 +mynumber +9 +0:01:05 +logout$' \
    "R9: adm1's session 9 lasted 0:01:05 (logout)"
expect_match '^  2026-11-23 15:00:00 +adm1 +mynumber +12 +open +no end recorded$' \
    "R9: a session without an end record is shown open"
# The process logged out when the daemon signalled it; the daemon's own
# record after it still says why the session ended.
expect_match '^  2026-11-23 16:00:00 +carol +lgwan +13 +0:00:30 +revoked$' \
    "R9: a logout followed by the daemon's session_end: length to the logout, ended by revocation"
expect_no_match '^  [0-9-]+ [0-9:]+ +carol +lgwan +8 ' "the ordinary session 8 is not listed"

is "R13: lockouts in total: 2" 2 "$(col ZONE TOTAL LOCKOUTS)"
expect_match '^Lockouts: 2$' "R13: the lockout list has 2 entries"
expect_match '^  2026-11-23 11:01:00 +alice +lgwan +2026-11-23 11:31:00 +too many failures$' \
    "R13: alice locked until 11:31 (local time)"
expect_match '^  2026-11-23 11:02:00 +bob +mynumber +helpdesk unlock +too many failures \(privileged limit\)$' \
    "R13: bob locked until a helpdesk unlock"

is "R5: attempts with revoked/suspended tokens of dave: 2" 2 "$(col USER dave REVOKED-TOKEN)"
is "dave's wrong code is an ordinary failure" 1 "$(col USER dave FAILURES)"
expect_match '^Attempts with revoked or suspended tokens: 2$' "R5: the list has 2 entries"
expect_match '^  2026-11-23 15:10:00 +dave +lgwan +auth +all tokens revoked$' "R5: the revoked-token login is listed"
expect_match '^  2026-11-23 15:11:00 +dave +lgwan +clone_suspected +signature counter' "R6: the suspended FIDO key is listed"

is "R17: temp-code uses of erin: 1 (the refused second use is no use)" 1 "$(col USER erin TEMPCODE)"
expect_match '^Temporary code uses and attempts: 2$' "R17: both the use and the refused attempt are listed"
expect_match '^  2026-11-23 15:21:00 +erin +lgwan +t1 +fail +code already used$' "R17: the second use is listed as refused"

# Local time: the same log in Tokyo (UTC+9) moves every login.
TZ=Asia/Tokyo run "$ZM_AUDIT" -c "$SCONF" report
if [[ -e /usr/share/zoneinfo/Asia/Tokyo ]]; then
	# 10:00Z = 19:00 JST (out), 20:00Z = 05:00 JST next day (out); the
	# 08:59Z..17:00Z bob logins are 17:59..02:00 JST: all out; Sat 12:00Z
	# = Sat 21:00 JST: out.  Only none of the 7 is inside.
	is "R15: office hours are judged in local time (Asia/Tokyo: 7 of 7 outside)" 7 "$(col ZONE TOTAL OFF-HOURS)"
else
	skip_dep "R15: office hours in local time" "no tzdata for Asia/Tokyo (package tzdata)"
fi

# --since and --user narrow the report.
run "$ZM_AUDIT" -c "$SCONF" report --user bob
is "--user bob: only bob's row" "bob" "$(awk '$1 == "USER" { f = 1; next } f && NF { print $1; exit }' <<<"$OUT")"
expect_match '^Lockouts: 1$' "--user bob: one lockout"
expect_match '^Privileged sessions: 0$' "--user bob: no privileged session"
run "$ZM_AUDIT" -c "$SCONF" report --since 2026-11-24
expect_match '^Logins outside office hours .*: 1$' "--since 2026-11-24: only the Saturday login"

# A tampered log still gets a report, with a warning and exit 1.
sed -i '3s/"bob"/"eve"/' "$SYN"
run "$ZM_AUDIT" -c "$SCONF" report
expect_rc 1 "R15: report over a tampered log: exit 1"
expect_match 'WARNING: the audit log has been tampered with' "R15: and a warning"

# ------------------------------------------- part 1b: width, clock, CSV
# Japanese names take two columns per character: the tables are aligned
# by display width.  Clock records have their own section (R16).  CSV is
# RFC 4180 (read back with python3's csv module); a formula is made text.
SYN2=$ZM_DIR/syn2.log
mklog "$SYN2" <<'EOF'
2026-11-23T20:00:00.000Z|auth|alice|lgwan|ok|verified||t1
2026-11-23T20:05:00.000Z|auth|yamada|窓口系|ok|verified||窓口端末01
2026-11-23T20:06:00.000Z|auth|yamada|窓口系|ok|verified||=HYPERLINK("http://x.invalid","x")
2026-11-23T20:07:00.000Z|lock|yamada|窓口系|ok|wrong code, "again"|until a helpdesk unlock
2026-11-23T20:08:00.000Z|auth|ev<RLO>il|lgwan|fail|wrong code|
2026-11-23T20:09:00.000Z|auth|erin|lgwan|fail|temporary code already used|
2026-11-23T21:00:00.000Z|clock||lgwan|unsynchronised|system clock not synchronised|adjtimex state 5 status 0x40 maxerror 16000000 us
2026-11-23T21:30:00.000Z|clock||lgwan|synchronised|system clock synchronised|adjtimex state 0 status 0x2001 maxerror 1000 us
EOF
SCONF2=$ZM_DIR/syn2.conf
sed -e "s#^audit_log = .*#audit_log = $SYN2#" \
    -e 's/^name = test-term$/&\noffice_hours = 09:00-17:00/' "$ZM_CONF" >"$SCONF2"
chmod 0644 "$SCONF2"
run "$ZM_AUDIT" -c "$SCONF2" verify
expect_rc 0 "the hand-written UTF-8 log is a valid chain"
run "$ZM_AUDIT" -c "$SCONF2" report
expect_rc 0 "report over the UTF-8 log: exit 0"
REPORT=$OUT
# aligned REGEX [tally]: in the block that starts at the line matching
# REGEX (its header; for a list: the line after the title), every column
# starts (or, for numbers, ends) at the same display column in every row,
# counting East Asian Wide and Fullwidth characters as 2 columns.
aligned() {
	python3 -c '
import re, sys, unicodedata
def w(s):
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = sys.stdin.read().split("\n")
start = [i for i, l in enumerate(lines) if re.search(sys.argv[1], l)]
if not start:
    sys.exit("no block " + sys.argv[1])
block = []
for l in lines[start[0] + (0 if sys.argv[2] == "tally" else 1):]:
    if not l.strip():
        break
    block.append(l)
# cells: runs of text separated by two or more spaces
e = [[(w(l[:m.start()]), w(l[:m.end()])) for m in re.finditer(r"\S+(?: \S+)*", l)]
     for l in block]
if len(block) < 3 or len({len(x) for x in e}) != 1:
    sys.exit("fewer than 2 rows or different cell counts: %r" % block)
for k in range(len(e[0])):
    if len({x[k][0] for x in e}) != 1 and len({x[k][1] for x in e}) != 1:
        sys.exit("column %d not aligned:\n%s" % (k, "\n".join(block)))
' "$1" "${2:-list}" <<<"$REPORT"
}
check "R15: the USER table is aligned by display width" aligned '^USER ' tally
check "R15: the ZONE table is aligned with the Japanese zone name 窓口系" aligned '^ZONE ' tally
check "R15: the off-hours list is aligned with a Japanese zone and terminal" aligned '^Logins outside office hours'
OUT=$REPORT
expect_match '^窓口系 +2 +2 ' "R15: the Japanese zone's row: 2 logins, 2 off hours"
expect_match '^  2026-11-23 20:05:00  yamada  窓口系  窓口端末01 +-$' \
    "R15: the Japanese cells are shown as UTF-8, padded by display width"
expect_match '^  2026-11-23 20:07:00  yamada  窓口系  helpdesk unlock  wrong code, "again"$' \
    "R13: the lockout with a Japanese zone"
expect_match 'ev\?il' "a bidirectional override in a user name is shown as '?'"
expect_no_match $'\xe2\x80\xae' "... and never reaches the terminal"
expect_match '^  2026-11-23 20:09:00 +erin +lgwan +t1 +fail +temporary code already used$' \
    "R17: a second use of a spent temporary code is in the temporary-code list"
is "R17: ... and no failure (nothing was typed): 1 failure in all, ev?il's" 1 "$(col ZONE TOTAL FAILURES)"
expect_match '^Clock records \(times near these are doubtful\): 2$' "R16: the report has a clock section with both records"
expect_match '^  2026-11-23 21:00:00 +lgwan +unsynchronised +system clock not synchronised +adjtimex state 5' \
    "R16: the unsynchronised clock record is listed"
expect_match '^  2026-11-23 21:30:00 +lgwan +synchronised ' "R16: ... and the return to synchronised"

# CSV, every section: each row names its section; parsed by python3.
run "$ZM_AUDIT" -c "$SCONF2" report --format csv
expect_rc 0 "report --format csv: exit 0"
CSV=$OUT
csvq() {	# csvq PYTHON-EXPR: printed, with rows = the parsed CSV
	python3 -c '
import csv, io, sys
rows = list(csv.reader(io.StringIO(sys.stdin.read(), newline=""), strict=True))
print(eval(sys.argv[1]))
' "$1" <<<"$CSV" 2>&1
}
is "CSV: every line ends in CRLF (RFC 4180)" 0 "$(grep -c $'[^\r]$' <<<"$CSV")"
is "CSV: the users header" \
    "section,user,logins,off_hours,failures,lockouts,refused,revoked_token,tempcode,enrolments,revocations,sessions_opened,sessions_ended,priv_sessions" \
    "$(csvq '",".join([r for r in rows if r[:2] == ["section", "user"]][0])')"
is "CSV: yamada's row: 2 logins, both off hours" "2 2" \
    "$(csvq '" ".join([r for r in rows if r[:2] == ["users", "yamada"]][0][2:4])')"
is "CSV: the Japanese zone name comes back unchanged" "窓口系" \
    "$(csvq '[r for r in rows if r[:1] == ["zones"] and r[1] != "lgwan"][0][1]')"
is "CSV: a reason with a comma and quotes survives the quoting" 'wrong code, "again"' \
    "$(csvq '[r for r in rows if r[:1] == ["lockouts"]][0][5]')"
is "CSV: a terminal that looks like a formula is made text (leading ')" \
    "'=HYPERLINK(\"http://x.invalid\",\"x\")" \
    "$(csvq '[r for r in rows if r[:1] == ["offhours"] and r[2] == "yamada"][1][4]')"
is "CSV: the clock section lists both records" "unsynchronised synchronised" \
    "$(csvq '" ".join(r[3] for r in rows if r[:1] == ["clock"])')"
is "CSV: one header row per section (8)" 8 "$(csvq 'sum(1 for r in rows if r[:1] == ["section"])')"
is "CSV: every row has as many cells as its header" 0 \
    "$(csvq 'sum(1 for i, r in enumerate(rows) if r and r[0] != "section" and len(r) != len([h for h in rows[:i] if h[:1] == ["section"]][-1]))')"

# One section: one header row and its rows, as a spreadsheet wants it.
run "$ZM_AUDIT" -c "$SCONF2" report --format csv --section clock
CSV=$OUT
is "CSV --section clock: the header and 2 rows" "time,zone,result,reason,detail|3" \
    "$(csvq '",".join(rows[0]) + "|" + str(len(rows))')"
is "CSV --section clock: local time a spreadsheet reads as a date" "2026-11-23 21:00:00" "$(csvq 'rows[1][0]')"
run "$ZM_AUDIT" -c "$SCONF2" report --format csv --bom --section users
is "--bom: the CSV starts with the UTF-8 byte order mark (for Excel)" "efbbbf" \
    "$(head -c 3 <<<"$OUT" | od -An -tx1 | tr -d ' \n')"
run "$ZM_AUDIT" -c "$SCONF2" report --section lockouts
expect_match '^Lockouts: 1$' "--section lockouts (table): the lockout list"
expect_no_match '^Clock records' "--section lockouts: nothing else"
run "$ZM_AUDIT" -c "$SCONF2" report --format xml
expect_rc 2 "an unknown --format is a usage error (exit 2)"
run "$ZM_AUDIT" -c "$SCONF2" report --section nosuch
expect_rc 2 "an unknown --section is a usage error (exit 2)"
expect_match 'zones users offhours' "... that names the sections"
run "$ZM_AUDIT" -c "$SCONF2" report --bom
expect_rc 2 "--bom without --format csv is a usage error (exit 2)"

# ---------------------------------------------------------------- part 2
unset TZ
LIMIT=2
sed -i "s/^privileged_max_failures = 2\$/&\nprivileged_session_limit = ${LIMIT}s/" "$ZM_CONF"
cat >>"$ZM_CONF" <<EOF

[zone tcallow]
require = knowledge possession
methods = totp tempcode
password = stack
max_failures = 3
lockout = 30m
temp_code = allow
EOF
write_service tcallow tcallow
start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_ALICE || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"
enroll_totp carol S_CAROL || bail_out "cannot enrol carol: $OUT"
enroll_totp adm1 S_ADM1 || bail_out "cannot enrol adm1: $OUT"

run_login --no-session lgwan alice "$(password alice)" "$(totp_code "$S_ALICE")"
expect_match '^auth: PAM_SUCCESS' "alice logs in"
# R13: three wrong codes lock bob (lgwan max_failures 3).
w=$(wrong_code "$S_BOB")
for left in 2 1; do
	run_login --no-session lgwan bob "$(password bob)" "$w"
	expect_match "Wrong one-time code\\. $left attempts? left" \
	    "R13: bob's wrong code: $left left"
done
run_login --no-session lgwan bob "$(password bob)" "$w"
expect_match 'Account locked' "R13: bob's third wrong code locks the account"
check "bob is locked (a lock record)" test "$(audit_count "$(jf event lock)" "$(jf user bob)")" -eq 1
# R9: carol (wheel) is privileged; the daemon ends her session.
if start_held lgwan carol "$(password carol)" "$(totp_code "$S_CAROL")" && wait_held $((LIMIT + 5)); then
	ok "R9: carol's privileged session is opened and ended by the limit"
else
	not_ok "R9: carol's privileged session is opened and ended by the limit"
fi
SID=$(last_session_id carol)
sleep 0.5	# the holder's own close, were it recorded, comes now
check "R15: carol's session $SID, ended by the limit, has one end record (no client session_close after the daemon's session_end)" \
    test "$(end_records "$SID")" -eq 1
# R5: all of adm1's tokens revoked, then a login attempt.
run as_user root zm_revoke --user adm1 --all --reason lost
expect_rc 0 "adm1's tokens are revoked"
run_login --no-session lgwan adm1 "$(password adm1)" 000000
expect_match '^auth: PAM_(AUTH_ERR|AUTHINFO_UNAVAIL|PERM_DENIED)' "adm1 is refused"
# R17: a temporary code, used once.
run as_user hd1 zm_enroll temp-code alice --valid 1h
CODE=$(grep -E '^[0-9]{10}$' <<<"$OUT" | head -n 1)
run_login --no-session tcallow alice "$(password alice)" "$CODE"
expect_match '^auth: PAM_SUCCESS' "alice logs in with a temporary code"

# office_days = a day that is not today: every login today is outside.
tomorrow=$(LC_ALL=C date -d tomorrow +%a | tr '[:upper:]' '[:lower:]')
OCONF=$ZM_DIR/off.conf
sed -e "s/^name = test-term\$/&\noffice_days = $tomorrow/" "$ZM_CONF" >"$OCONF"
chmod 0644 "$OCONF"
ICONF=$ZM_DIR/in.conf
sed -e 's/^name = test-term$/&\noffice_hours = 00:00-24:00\noffice_days = mon tue wed thu fri sat sun/' \
    "$ZM_CONF" >"$ICONF"
chmod 0644 "$ICONF"

run "$ZM_AUDIT" -c "$OCONF" report
expect_rc 0 "report over the daemon's log: exit 0"
is "R15: alice's logins today are outside office hours ($tomorrow only): 2" 2 "$(col USER alice OFF-HOURS)"
is "R15: carol's login is outside office hours: 1" 1 "$(col USER carol OFF-HOURS)"
is "R15: zone tcallow: 1 off-hours login" 1 "$(col ZONE tcallow OFF-HOURS)"
is "R13: bob: 1 lockout" 1 "$(col USER bob LOCKOUTS)"
expect_match '^Lockouts: 1$' "R13: one lockout listed"
expect_match "^  [0-9-]+ [0-9:]+ +bob +lgwan +[0-9-]+ [0-9:]+ +too many failures\$" "R13: bob's lockout with its end time"
is "R9: carol: 1 privileged session" 1 "$(col USER carol PRIV-SESSIONS)"
expect_match '^Privileged sessions: 1$' "R9: one privileged session listed"
# The daemon keeps session times in whole seconds: a session opened at
# T.9 has reached a 2 s limit at T+2.0, 1.1 s later (a limit is a
# maximum).
expect_match "^  [0-9-]+ [0-9:]+ +carol +lgwan +[0-9]+ +0:00:0[1-7] +session_limit\$" \
    "R9: carol's session, about ${LIMIT}s long, ended by the limit"
is "R5: adm1: 1 attempt with revoked tokens" 1 "$(col USER adm1 REVOKED-TOKEN)"
expect_match '^Attempts with revoked or suspended tokens: 1$' "R5: one listed"
is "R17: alice: 1 temp-code use" 1 "$(col USER alice TEMPCODE)"
expect_match '^Temporary code uses and attempts: 1$' "R17: one listed"
expect_match "^  [0-9-]+ [0-9:]+ +alice +tcallow +test-term +ok +used\$" "R17: the use, at test-term"

run "$ZM_AUDIT" -c "$ICONF" report
is "R15: with office hours all week round no login is outside" 0 "$(col ZONE TOTAL OFF-HOURS)"
expect_match '^Logins outside office hours \(00:00-24:00 mon tue wed thu fri sat sun, local time\): 0$' \
    "the list is empty and says so"

stop_daemon_ok
done_testing
