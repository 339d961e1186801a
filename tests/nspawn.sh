# tests/nspawn.sh - a booted Debian container for it_systemd.sh and
# it_package.sh (sourced after lib.sh; needs root, systemd-nspawn,
# nsenter).  The caller sets NS (its cache directory: console.log goes
# there) and RUN (the root to boot), and appends the pids of background
# helpers to BG_PIDS.
#
#   host_mirror            the host's Debian mirror (deb.debian.org if none)
#   nspawn_run ROOT CMD... CMD in ROOT, not booted, with the host's network
#   ct_traps               clean up on exit/signals: helpers killed, the
#                          container powered off, RUN removed (ZM_KEEP=1
#                          keeps it)
#   ct_boot                boot RUN; 0 once systemd says running or
#                          degraded (CT_STATE), 1 if it did not boot
#   in_ct CMD...           CMD inside the booted container, as root
#   as_ct USER CMD...      the same as USER with its groups
#   ct_journal ARGS...     the container's journal as TAP diagnostics
#   poweroff_ct            orderly shutdown; nspawn's exit status
#   enroll_ct USER         TOTP for USER, enrolled by hd1 in the container;
#                          the secret in SECRET
#   login_ct OUT ARGS...   the caller's $RUN/root/zm-login.exp with ARGS
#                          (one a line, in a root-only file) in a transient
#                          service (in the container's cgroup tree, as a
#                          logind session's leader must be), in the
#                          background, output in OUT; LOGIN_PID is the
#                          local nsenter/systemd-run
#   wait_file FILE ERE S   until FILE has a line matching ERE (S seconds;
#                          1 if not, or if the login ended without it)

host_mirror() {
	local m
	m=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' \
	    /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
	    /etc/apt/sources.list.d/*.list 2>/dev/null |
	    grep -oE 'https?://[^ ]+' | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

# /proc, /dev and the host's network and resolv.conf, as apt needs them.
nspawn_run() {
	local root=$1
	shift
	systemd-nspawn -q --register=no --keep-unit --resolv-conf=copy-host \
	    -D "$root" --setenv=DEBIAN_FRONTEND=noninteractive \
	    --setenv=LC_ALL=C -- "$@"
}

NSPAWN_PID=""
LEADER=""
BG_PIDS=""
CT_STATE=""

in_ct() {
	nsenter -t "$LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    LC_ALL=C HOME=/root TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}
as_ct() {
	local u=$1
	shift
	in_ct setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}
ct_journal() {
	diag "journal $*:"
	in_ct journalctl --no-pager -q -o short-monotonic "$@" 2>&1 |
	    sed 's/^/#   /'
}

poweroff_ct() {
	local i
	[[ -n $NSPAWN_PID ]] || return 0
	if kill -0 "$NSPAWN_PID" 2>/dev/null && [[ -n $LEADER ]]; then
		in_ct systemctl poweroff >/dev/null 2>&1
	fi
	for i in $(seq 600); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NSPAWN_PID" 2>/dev/null; then
		# nspawn: SIGTERM = orderly shutdown of the container.
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		for i in $(seq 150); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
	fi
	wait "$NSPAWN_PID" 2>/dev/null
	local rc=$?
	NSPAWN_PID=""
	return $rc
}

_ct_cleanup() {
	local p
	for p in ${BG_PIDS:-}; do
		kill "$p" 2>/dev/null
	done
	poweroff_ct
	if [[ ${ZM_KEEP:-0} == 1 ]]; then
		echo "# kept $RUN ($NS/console.log)"
	else
		rm -rf "$RUN"
	fi
}
ct_traps() {
	trap _ct_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

ct_boot() {
	local i p k v ppid comm
	# --system-call-filter=@clock: as on a real terminal, services may
	# read the clock's synchronisation state (nspawn denies @clock to a
	# container without CAP_SYS_TIME; the kernel still refuses setting
	# the clock without it).
	systemd-nspawn -q --register=no --keep-unit --private-network \
	    --system-call-filter=@clock -D "$RUN" -b \
	    </dev/null >"$NS/console.log" 2>&1 &
	NSPAWN_PID=$!
	# The container's PID 1: nspawn's child running systemd.
	for i in $(seq 300); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		for p in /proc/[0-9]*; do
			# Shell builtins only: no process per /proc entry.
			ppid=""
			while read -r k v; do
				[[ $k == PPid: ]] && { ppid=$v; break; }
			done 2>/dev/null <"$p/status"
			[[ $ppid == "$NSPAWN_PID" ]] || continue
			comm=""
			read -r comm 2>/dev/null <"$p/comm"
			[[ $comm == systemd ]] || continue
			LEADER=${p#/proc/}
			break 2
		done
		sleep 0.1
	done
	CT_STATE=""
	# Until PID 1 listens on its bus, systemctl cannot connect: retry.
	for i in $(seq 240); do
		[[ -n $LEADER ]] || break
		CT_STATE=$(timeout 120 nsenter -t "$LEADER" -a env -i \
		    PATH=/usr/bin:/bin systemctl is-system-running --wait 2>&1)
		[[ $CT_STATE == *'connect to bus'* ]] || break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.5
	done
	[[ $CT_STATE == running || $CT_STATE == degraded ]]
}

enroll_ct() {
	run as_ct hd1 zonemfa-enroll totp "$1"
	SECRET=$(sed -n 's/^otpauth:\/\/totp\/.*[?&]secret=\([A-Z2-7]*\).*$/\1/p' <<<"$OUT" | head -n 1)
	[[ $RC -eq 0 && -n $SECRET ]]
}

login_ct() {
	local out=$1
	shift
	: >"$out"
	(umask 077 && printf '%s\n' "$@" >"$RUN/root/zm-login.in")
	in_ct systemd-run -q --wait --pipe --collect --service-type=exec \
	    -p TimeoutStopSec=10 /usr/bin/expect -f /root/zm-login.exp \
	    /root/zm-login.in </dev/null >"$out" 2>&1 &
	LOGIN_PID=$!
	BG_PIDS="$BG_PIDS $LOGIN_PID"
}

wait_file() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$LOGIN_PID" 2>/dev/null || { grep -Eq -- "$2" "$1"; return; }
		sleep 0.1
	done
	return 1
}
