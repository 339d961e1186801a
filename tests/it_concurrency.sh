#!/bin/bash
# it_concurrency.sh - R13 attempt limit under load: 200 failing logins
# through the real PAM stack, in waves of 50 concurrent clients (a
# pam_wrapper limit), all reach the daemon and are counted exactly: the
# store's failure counter, the audit log and the 1..200 sequence agree;
# a prompt that gets no answer (EOF) is not counted.
. "$(dirname "$0")/lib.sh"
zm_setup

N=${ZM_CONC_N:-200}
cat >>"$ZM_CONF" <<EOF

[zone load]
require = knowledge possession
methods = totp
password = stack
max_failures = $((N + 50))
lockout = 30m
EOF
write_service load load
start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_ALICE || bail_out "cannot enrol alice: $OUT"
bad=$(wrong_code "$S_ALICE")

_zm_login_env
# pam_wrapper gives each process a /tmp/pam.X directory from a set of 62
# names shared by every test file (zm-login takes them one at a time, see
# tests/zm-login.c); more than 62 at once and the others fail inside
# pam_wrapper ("Failed to find a possible path to create pam_wrapper
# config dir") before any module prompts, so before the daemon is reached
# (harness, not us).  The logins run in waves of WAVE, concurrent within a
# wave; a client that never prompted is run again in a later wave, so
# every one of the N reaches the daemon exactly once.
WAVE=${ZM_CONC_WAVE:-50}
todo=$(seq 0 $((N - 1)))
retried=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	# shellcheck disable=SC2086 # a list of numbers
	set -- $todo
	[[ $# -gt 0 ]] || break
	while [[ $# -gt 0 ]]; do
		pids=()
		for ((k = 0; k < WAVE && $# > 0; k++)); do
			printf '%s\n%s\n' "$(password alice)" "$bad" |
			    timeout 60 "${_ZM_ENV[@]}" "$ZM_LOGIN" --no-session load alice \
			    >"$ZM_DIR/c.$1.out" 2>&1 &
			pids+=($!)
			shift
		done
		for p in "${pids[@]}"; do wait "$p"; done
	done
	# Only a client that never got as far as the password prompt is run
	# again: pam_matrix (requisite, first in the stack) prompts before
	# pam_zonemfa can run, so no prompt means the daemon was not asked.
	# The pam_wrapper error alone is no proof: it sometimes goes on.
	todo=$(grep -L '^PROMPT: ' "$ZM_DIR"/c.*.out | sed 's/.*c\.\([0-9]*\)\.out$/\1/')
	[[ -n $todo ]] && retried=$((retried + $(wc -l <<<"$todo")))
done
diag "$retried client runs stopped in pam_wrapper before any prompt and were run again"
reached=$(grep -l '^ERROR: Wrong one-time code' "$ZM_DIR"/c.*.out | xargs -r grep -l '^auth: PAM_AUTH_ERR' | wc -l)
CMD="$N logins in waves of $WAVE"
OUT="$(grep -L '^ERROR: Wrong one-time code' "$ZM_DIR"/c.*.out | head -n 3 | xargs -r cat)"
check "R13: all $N concurrent failing logins reached the daemon and were refused ($reached)" \
    test "$reached" -eq "$N"
fails=$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result fail)" "$(jf reason 'wrong code')")
check "R15: every refused attempt is audited as a failure ($fails = $N)" test "$fails" -eq "$N"
# The store's own counter (read-only, beside the running daemon).
stored=$(python3 -c '
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
print(c.execute("SELECT failures FROM users WHERE name = ?", ("alice",)).fetchone()[0])
' "$ZM_DIR/registry.db" 2>&1)
check "R13: the store's failure counter is exactly $N ($stored)" test "$stored" = "$N"
nums=$(grep -E "$(jf event auth)" "$ZM_AUDIT_LOG" | grep -E "$(jf user alice)" |
    sed -n 's/.*failure \([0-9]*\) of .*/\1/p' | sort -n | uniq)
distinct=$(wc -l <<<"$nums")
maxn=$(tail -n 1 <<<"$nums")
if [[ $distinct -eq $fails && $maxn -eq $fails ]]; then
	ok "R13: the counter went 1..$fails with no lost or doubled update"
else
	not_ok "R13: the counter went 1..$fails with no lost or doubled update (distinct $distinct, max $maxn)"
fi

# A prompt left without an answer (EOF) is no failure.
printf '%s\n' "$(password alice)" |
    timeout 30 "${_ZM_ENV[@]}" "$ZM_LOGIN" --no-session load alice >/dev/null 2>&1
check "R13: an unanswered prompt is audited as aborted" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result aborted)")" -ge 1
run_login --no-session load alice "$(password alice)" "$bad"
expect_match '^auth: PAM_AUTH_ERR' "one more wrong code is refused"
check "R13: the next failure is number $((fails + 1)) (the EOF did not count)" \
    test "$(audit_count "failure $((fails + 1)) of ")" -eq 1

stop_daemon_ok
done_testing
