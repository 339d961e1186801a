#!/bin/bash
# tests/crash_trials.sh - crash consistency, measured (issue 8, issue 13
# item 4): zonemfa-tokend is killed with SIGKILL at a random moment while
# enrolments, revocations, failing logins and open sessions are in flight;
# it is restarted and every promise it acknowledged is checked.
#
# One trial:
#  setup  hd1 enrols a TOTP token for each victim (alice, bob) and each
#         logs in with it and holds the session (zm-login --hold; bob's
#         ignores SIGHUP/SIGTERM in ZM_CRASH_STUCK % of the trials, so
#         ending it takes the daemon's grace periods);
#  chaos  at once: hd1 revokes --all of alice, bob and dave, hd1 enrols
#         TOTP tokens for alice, dave and erin, frank fails
#         ZM_CRASH_FAILS logins with a wrong code; the daemon gets SIGKILL
#         after the K-th new audit record (K in 0..ZM_CRASH_KREC), or as
#         soon as the registry shows 1 or 2 more revoked tokens, or after
#         a random delay (0..ZM_CRASH_KMAX ms) (tests/crash_kill.py);
#  after  the daemon is restarted and tests/crash_check.py counts, over
#         all trials so far: acknowledged revocations not in force
#         (printed "revoked:" or "already revoked": every token the revoke
#         named, and every token of that user whose enrolment was
#         acknowledged before the revoke started, must be revoked),
#         acknowledged enrolments missing, the integrity check, revoked
#         tokens without a revoke record in the audit log, sessions of
#         revoked tokens still running or open ZM_CRASH_WAIT s after the
#         restart; here: failing logins acknowledged (auth: PAM_AUTH_ERR
#         after "Wrong one-time code") but not in the failure counters,
#         `zonemfa-audit verify`, and a login with each acknowledged-revoked
#         victim token (a code never used) must be refused.
#
# Sourced by tests/it_crash.sh (TAP, a short run); run directly, it runs
# N trials and prints the table (scripts/bench --crash N):
#   top_builddir=_build/dev tests/crash_trials.sh [N]
# Needs root, like the other integration tests.  ZM_CRASH_LOG=FILE keeps a
# line per trial.

_cr_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_cr_main=0
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	_cr_main=1
	. "$_cr_here/lib.sh"
fi

# The system's python3 when it has sqlite3: a version manager's shim
# (pyenv) in PATH costs seconds a call on a loaded machine.
CR_PY=python3
if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import sqlite3' 2>/dev/null; then
	CR_PY=/usr/bin/python3
fi

# More users than lib.sh's: the enrol-only ones and the failing one.
ZM_UID[dave]=2004
ZM_UID[erin]=2005
ZM_UID[frank]=2006
ZM_USERS="$ZM_USERS dave erin frank"

CR_VICTIMS="alice bob"
CR_REVOKE="alice bob dave"
CR_ENROL="alice dave erin"
CR_FAILER=frank
: "${ZM_CRASH_FAILS:=3}"
: "${ZM_CRASH_KMAX:=1500}"
: "${ZM_CRASH_KREC:=14}"
: "${ZM_CRASH_STUCK:=20}"
: "${ZM_CRASH_WAIT:=10}"

# Totals over the trials.
CR_TRIALS=0 CR_ACK_REV=0 CR_ACK_ENR=0 CR_ACK_FAIL=0 CR_TRIED_FAIL=0
CR_LOST_REV=0 CR_LOST_ENR=0 CR_LOST_FAIL=0 CR_EXTRA_FAIL=0
CR_NOREC=0 CR_INTEGRITY=0 CR_CHAIN=0 CR_SURVIVING=0 CR_ACCEPTED=0
CR_PENDING=0 CR_HELD=0 CR_HELD_REVOKED=0 CR_REFUSAL_CHECKS=0
CR_SETUP_ERR=0 CR_RESTART_ERR=0 CR_INFLIGHT=0
CR_FIRST_BAD=""

# _cr_tm PHASE: phase timings for ZM_CRASH_LOG.
_cr_tm() {
	[[ -n ${ZM_CRASH_LOG:-} ]] || return 0
	local now=${EPOCHREALTIME/./}
	[[ -n ${_cr_t:-} ]] && _cr_times="$_cr_times $_cr_ph=$(((now - _cr_t) / 1000))"
	_cr_t=$now _cr_ph=$1
	[[ $1 == setup ]] && _cr_times=""
	return 0
}

# crash_setup: the zone, the daemon, the failing user's token.
crash_setup() {
	CR_STATE=$ZM_DIR/crash
	mkdir -p "$CR_STATE"
	: >"$CR_STATE/enr"
	: >"$CR_STATE/rev"
	: >"$CR_STATE/revid"
	: >"$CR_STATE/held"
	echo "$CR_FAILER" >"$CR_STATE/fail_user"
	cat >>"$ZM_CONF" <<EOF

[zone crash]
require = knowledge possession
methods = totp
password = stack
max_failures = 1000
lockout = 30m
EOF
	write_service crash crash
	start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
	enroll_totp "$CR_FAILER" CR_S_FAIL || bail_out "cannot enrol $CR_FAILER: $OUT"
	CR_BAD=$(wrong_code "$CR_S_FAIL")
	CR_PREV_FS=0 CR_PREV_F=0
	_zm_login_env
}

_cr_bad() {
	CR_FIRST_BAD=${CR_FIRST_BAD:-"trial $1: $2"}
	diag "trial $1: $2"
}

# crash_trial N
crash_trial() {
	local t=$1 T=$ZM_DIR/trial v id pid stuck opts pids=() k
	rm -rf "$T"
	mkdir -p "$T"
	: >"$CR_STATE/held"
	CR_TRIALS=$((CR_TRIALS + 1))
	ZM_HELD_PIDS=""

	_cr_tm setup
	# --- the kill, started now and armed when the chaos starts: in 2
	# trials of 4 after the K-th new audit record (plus up to 2 ms),
	# whatever the load; in 1 of 4 as soon as the registry has 1 or 2 more
	# revoked tokens (the revocation durable, neither recorded nor
	# enforced perhaps: mostly at once, else up to 1 ms later); else
	# after a random delay.
	local how arg jit=0 killer
	case $((RANDOM % 4)) in
	0) how=ms arg=$((RANDOM % (ZM_CRASH_KMAX + 1))) ;;
	1) how=revoked arg=$((1 + RANDOM % 2)) jit=$((RANDOM % 3 ? 0 : RANDOM % 1000)) ;;
	*) how=records arg=$((RANDOM % (ZM_CRASH_KREC + 1))) jit=$((RANDOM % 2000)) ;;
	esac
	"$CR_PY" "$_cr_here/crash_kill.py" "$ZM_DAEMON_PID" "$ZM_AUDIT_LOG" \
	    "$T/go" "$T/done" "$how" "$arg" "$jit" "$ZM_DIR/registry.db" >"$T/kill" 2>&1 &
	killer=$!
	# --- setup: a token and an open session for each victim.
	declare -A setup_tok=() setup_sec=()
	for v in $CR_VICTIMS; do
		if ! enroll_totp "$v" S; then
			CR_SETUP_ERR=$((CR_SETUP_ERR + 1))
			_cr_bad "$t" "setup: cannot enrol $v: $OUT"
			continue
		fi
		id=""
		[[ $OUT =~ enrolled:\ token\ ([0-9]+)\ \(totp\) ]] && id=${BASH_REMATCH[1]}
		if [[ -z $id ]]; then
			CR_SETUP_ERR=$((CR_SETUP_ERR + 1))
			_cr_bad "$t" "setup: no token id for $v: $OUT"
			continue
		fi
		echo "$t setup $v $id" >>"$CR_STATE/enr"
		CR_ACK_ENR=$((CR_ACK_ENR + 1))
		setup_tok[$v]=$id setup_sec[$v]=$S
		opts=()
		if [[ $v == bob ]] && ((RANDOM % 100 < ZM_CRASH_STUCK)); then
			opts=(--ignore-signals)
		fi
		if start_held "${opts[@]}" crash "$v" "$(password "$v")" "$(totp_code "$S")"; then
			echo "$HELD_PID $id $v" >>"$CR_STATE/held"
			CR_HELD=$((CR_HELD + 1))
		else
			CR_SETUP_ERR=$((CR_SETUP_ERR + 1))
			_cr_bad "$t" "setup: $v's session did not open: $OUT"
		fi
	done
	local held_pids=$ZM_HELD_PIDS

	_cr_tm chaos
	touch "$T/go"
	for v in $CR_REVOKE; do
		(as_user hd1 zm_revoke --user "$v" --all --reason lost \
		    >"$T/rev.$v" 2>&1; echo $? >"$T/rev.$v.rc") &
		pids+=($!)
	done
	for v in $CR_ENROL; do
		(as_user hd1 zm_enroll totp "$v" >"$T/enr.$v" 2>&1
		    echo $? >"$T/enr.$v.rc") &
		pids+=($!)
	done
	for ((k = 0; k < ZM_CRASH_FAILS; k++)); do
		(printf '%s\n%s\n' "$(password "$CR_FAILER")" "$CR_BAD" |
		    timeout 30 "${_ZM_ENV[@]}" "$ZM_LOGIN" --no-session crash \
		    "$CR_FAILER" >"$T/fail.$k" 2>&1; echo $? >"$T/fail.$k.rc") &
		pids+=($!)
	done
	# Every client writes its exit status last: all there = all done
	# (then the killer kills at once).
	local nclients=${#pids[@]} inflight=1
	while kill -0 "$killer" 2>/dev/null; do
		shopt -s nullglob
		local rcs=("$T"/*.rc)
		shopt -u nullglob
		if ((${#rcs[@]} >= nclients)); then
			inflight=0
			touch "$T/done"
			break
		fi
		sleep 0.01
	done
	wait "$killer"
	wait "$ZM_DAEMON_PID" 2>/dev/null
	ZM_DAEMON_PID=""
	CR_INFLIGHT=$((CR_INFLIGHT + inflight))
	wait "${pids[@]}"
	local killed
	killed=$(<"$T/kill")

	_cr_tm restart
	# --- restart.
	if ! start_daemon; then
		CR_RESTART_ERR=$((CR_RESTART_ERR + 1))
		_cr_bad "$t" "the daemon did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
		start_daemon || bail_out "zonemfa-tokend does not restart"
	fi

	_cr_tm acks
	# --- what was acknowledged.
	# (bash only: no process per file on a loaded machine)
	local acked_rev="" line txt ids
	for v in $CR_REVOKE; do
		txt=$(<"$T/rev.$v")
		[[ $'\n'$txt =~ $'\n'(revoked: |already\ revoked: ) ]] || continue
		acked_rev="$acked_rev $v"
		CR_ACK_REV=$((CR_ACK_REV + 1))
		echo "$t $v" >>"$CR_STATE/rev"
		while IFS= read -r line; do
			ids=""
			if [[ $line =~ ^revoked:\ token\ ([0-9]+)\  ]]; then
				ids=${BASH_REMATCH[1]}
			elif [[ $line =~ ^already\ revoked:\ tokens\ ([0-9,]+)\ of ]]; then
				ids=${BASH_REMATCH[1]//,/ }
			fi
			for id in $ids; do
				echo "$t $v $id" >>"$CR_STATE/revid"
			done
		done <<<"$txt"
	done
	for v in $CR_ENROL; do
		[[ $(<"$T/enr.$v.rc") == 0 ]] || continue
		txt=$(<"$T/enr.$v")
		[[ $'\n'$txt =~ $'\n'otpauth://totp/ ]] || continue
		if [[ $txt =~ enrolled:\ token\ ([0-9]+)\ \(totp\)\ for ]]; then
			echo "$t chaos $v ${BASH_REMATCH[1]}" >>"$CR_STATE/enr"
			CR_ACK_ENR=$((CR_ACK_ENR + 1))
		fi
	done
	local ack_fail=0
	for ((k = 0; k < ZM_CRASH_FAILS; k++)); do
		txt=$'\n'$(<"$T/fail.$k")
		if [[ $txt == *$'\n''ERROR: Wrong one-time code'* &&
		    $txt == *$'\n''auth: PAM_AUTH_ERR'* ]]; then
			ack_fail=$((ack_fail + 1))
		fi
	done
	CR_ACK_FAIL=$((CR_ACK_FAIL + ack_fail))
	CR_TRIED_FAIL=$((CR_TRIED_FAIL + ZM_CRASH_FAILS))

	_cr_tm refusal
	# --- a login with each acknowledged-revoked victim token (a code
	# of the next step: never used, so only the revocation refuses it).
	for v in $acked_rev; do
		[[ -n ${setup_tok[$v]:-} ]] || continue
		CR_REFUSAL_CHECKS=$((CR_REFUSAL_CHECKS + 1))
		if ! crash_refused "$v" "${setup_sec[$v]}"; then
			CR_ACCEPTED=$((CR_ACCEPTED + 1))
			_cr_bad "$t" "a login with $v's revoked token ${setup_tok[$v]} was not refused: $(tr '\n' ' ' <<<"$OUT")"
		fi
	done

	_cr_tm check
	crash_check "$t" "$ack_fail" "$T"
	CR_LOST_REV=$CK_lost_rev CR_LOST_ENR=$CK_lost_enr CR_NOREC=$CK_norec
	CR_INTEGRITY=$((CR_INTEGRITY + CK_integrity_fail))
	CR_PENDING=$((CR_PENDING + CK_pending))
	CR_SURVIVING=$((CR_SURVIVING + CK_surviving))
	CR_HELD_REVOKED=$((CR_HELD_REVOKED + CK_held_revoked))
	CR_LOST_FAIL=$((CR_LOST_FAIL + CK_lost_fail))
	CR_EXTRA_FAIL=$((CR_EXTRA_FAIL + CK_extra_fail))
	CR_CHAIN=$((CR_CHAIN + CK_chain))

	_cr_tm end
	if [[ -n ${ZM_CRASH_LOG:-} ]]; then
		printf 'trial %d kill=[%s %s: %s] acked_rev=[%s] ack_fail=%d/%d held_revoked=%d lost_rev=%d lost_enr=%d norec=%d surviving=%d chain=%d ms:%s\n' \
		    "$t" "$how" "$arg" "$killed" "${acked_rev# }" "$ack_fail" "$ZM_CRASH_FAILS" \
		    "$CK_held_revoked" "$CK_lost_rev" "$CK_lost_enr" "$CK_norec" \
		    "$CK_surviving" "$CK_chain" "$_cr_times" >>"$ZM_CRASH_LOG"
	fi

	# --- end what is left (sessions of tokens the kill saved).
	for pid in $held_pids; do
		kill -KILL "$pid" 2>/dev/null
	done
	for pid in $held_pids; do
		wait "$pid" 2>/dev/null
	done
	ZM_HELD_PIDS=""
	rm -f "$ZM_DIR"/held.*.out "$ZM_DIR"/held.*.out.in
	if ((CK_failures > 500)); then
		as_user hd1 zm_enroll unlock "$CR_FAILER" >/dev/null 2>&1
		CR_PREV_F=0
	fi
	return 0
}

# crash_refused USER SECRET: a login of USER with the TOTP code of SECRET
# for the next step (one no login used) is refused (auth: PAM_AUTH_ERR).
crash_refused() {
	run_login --no-session crash "$1" "$(password "$1")" "$(totp_code "$2" 30)"
	[[ $'\n'$OUT == *$'\n''auth: PAM_AUTH_ERR'* ]]
}

# crash_check TRIAL ACK_FAIL DIR: count what the registry and the audit
# log lost, into CK_*: integrity_fail, lost_rev, lost_enr, norec, pending,
# surviving (waiting up to ZM_CRASH_WAIT s), held_revoked (from
# tests/crash_check.py), lost_fail and extra_fail (the failing user's
# counters against ACK_FAIL acknowledged failures since the last call),
# chain (zonemfa-audit verify failed: 0/1).  CR_DB: the registry (default
# the daemon's).  Diagnostics in DIR/check.err and as TAP comments.
crash_check() {
	local t=$1 ack_fail=$2 T=$3 res k v
	res=$("$CR_PY" "$_cr_here/crash_check.py" "${CR_DB:-$ZM_DIR/registry.db}" \
	    "$ZM_AUDIT_LOG" "$CR_STATE" "$t" "$ZM_CRASH_WAIT" 2>"$T/check.err")
	CK_integrity_fail="" CK_surviving=""
	while IFS='=' read -r k v; do
		case $k in
		integrity_fail | lost_rev | lost_enr | norec | pending | surviving | \
		    held_revoked | failures | failures_since | revoked_tokens)
			[[ $v =~ ^[0-9]+$ ]] && printf -v "CK_$k" '%s' "$v" ;;
		esac
	done <<<"$res"
	if [[ -z $CK_integrity_fail || -z $CK_surviving ]]; then
		_cr_bad "$t" "crash_check.py failed: $(<"$T/check.err")"
		CK_integrity_fail=1 CK_lost_rev=0 CK_lost_enr=0 CK_norec=0 \
		    CK_pending=0 CK_surviving=0 CK_held_revoked=0 \
		    CK_failures=$CR_PREV_F CK_failures_since=$CR_PREV_FS
	fi
	[[ -s $T/check.err ]] && diag "trial $t:" "$(<"$T/check.err")"
	local dfs=$((CK_failures_since - CR_PREV_FS)) df=$((CK_failures - CR_PREV_F))
	CK_lost_fail=0 CK_extra_fail=0
	((dfs < ack_fail)) && CK_lost_fail=$((ack_fail - dfs))
	((df < ack_fail && ack_fail - df > CK_lost_fail)) && CK_lost_fail=$((ack_fail - df))
	((CK_lost_fail > 0)) &&
	    _cr_bad "$t" "$ack_fail acknowledged failures, counters +$df/+$dfs"
	if ((dfs > ZM_CRASH_FAILS || df > ZM_CRASH_FAILS)); then
		CK_extra_fail=1
		_cr_bad "$t" "$ZM_CRASH_FAILS failing logins, counters +$df/+$dfs"
	fi
	CR_PREV_FS=$CK_failures_since CR_PREV_F=$CK_failures

	CK_chain=0
	run zm_audit verify
	if [[ $RC -ne 0 ]]; then
		CK_chain=1
		_cr_bad "$t" "zonemfa-audit verify: $OUT"
	fi
	return 0
}

# crash_run N: N trials (ZM_CRASH_PROGRESS=K: a progress line every K
# trials on stderr).
crash_run() {
	local n=$1 i
	for ((i = 1; i <= n; i++)); do
		crash_trial "$i"
		# What an interrupted run (SIGTERM, SIGINT) prints.
		CR_LAST_TABLE=$(crash_table)
		if [[ -n ${ZM_CRASH_PROGRESS:-} ]] && ((i % ZM_CRASH_PROGRESS == 0)); then
			echo "# $(date +%T) $i trials: acked rev $CR_ACK_REV enr $CR_ACK_ENR fail $CR_ACK_FAIL; lost $CR_LOST_REV/$CR_LOST_ENR/$CR_LOST_FAIL norec $CR_NOREC integrity $CR_INTEGRITY chain $CR_CHAIN surviving $CR_SURVIVING accepted $CR_ACCEPTED setup_err $CR_SETUP_ERR" >&2
		fi
	done
}

crash_table() {
	printf '%-58s %8s\n' "crash consistency (kill -9 at random, restart)" value
	printf '%-58s %8s\n' "trials" "$CR_TRIALS" \
	    "trials killed with clients at work" "$CR_INFLIGHT" \
	    "acknowledged revocations (revoke --all)" "$CR_ACK_REV" \
	    "acknowledged enrolments" "$CR_ACK_ENR" \
	    "acknowledged failures (of $CR_TRIED_FAIL failing logins)" "$CR_ACK_FAIL" \
	    "held sessions (of them, token revoked at the check)" "$CR_HELD ($CR_HELD_REVOKED)" \
	    "lost: revocations (must be 0)" "$CR_LOST_REV" \
	    "lost: enrolments (must be 0)" "$CR_LOST_ENR" \
	    "lost: failures (must be 0)" "$CR_LOST_FAIL" \
	    "failure counted beyond the attempts (trials)" "$CR_EXTRA_FAIL" \
	    "revoked token accepted at login (of $CR_REFUSAL_CHECKS tried)" "$CR_ACCEPTED" \
	    "revoked tokens without an audit record" "$CR_NOREC" \
	    "audit-pending marks left after the restart" "$CR_PENDING" \
	    "integrity_check failures" "$CR_INTEGRITY" \
	    "audit chain breaks (zonemfa-audit verify)" "$CR_CHAIN" \
	    "surviving sessions (after ${ZM_CRASH_WAIT} s)" "$CR_SURVIVING" \
	    "harness: setup errors / restart failures" "$CR_SETUP_ERR / $CR_RESTART_ERR"
}

# Run directly: N trials and the table.
if ((_cr_main)); then
	zm_setup
	crash_setup
	start=$(date +%s)
	CR_LAST_TABLE=""
	# Stopped early: the table of the trials completed.
	trap 'echo "$CR_LAST_TABLE"; echo "interrupted: elapsed $(($(date +%s) - start)) s"; exit 143' TERM INT
	crash_run "${1:-1000}"
	crash_table
	echo "elapsed: $(($(date +%s) - start)) s"
	stop_daemon
fi
