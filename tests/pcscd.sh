# tests/pcscd.sh - a private pcscd with a vpcd virtual reader, and the
# virtual card (tests/vcard) that plugs into it.  Sourced after lib.sh.
#
# Never the system reader config: installing vsmartcard-vpcd drops
# /etc/reader.conf.d/vpcd, which makes the system pcscd accept a card from
# the network; we use a private reader dir (pcscd -c DIR) and a private
# socket handed over by socket activation, and clients follow
# PCSCLITE_CSOCK_NAME (TESTING.md).

ZM_VCARD=$top_builddir/tests/vcard
ZM_PCSC_WAIT=$top_builddir/tests/zm-pcsc-wait
PCSCD_BIN=$(command -v pcscd || echo /usr/sbin/pcscd)
VPCD_LIB=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
PCSCD_PID=""
VCARD_PID=""

pcscd_require() {
	[[ -x $PCSCD_BIN ]] || skip_all "pcscd not installed"
	[[ -e $VPCD_LIB ]] || skip_all "vsmartcard-vpcd not installed"
	command -v systemd-socket-activate >/dev/null ||
	    skip_all "systemd-socket-activate not found"
	[[ -x $ZM_VCARD && -x $ZM_PCSC_WAIT ]] || skip_all "not built: tests/vcard"
	if [[ -e /etc/reader.conf.d/vpcd ]]; then
		diag "WARNING: /etc/reader.conf.d/vpcd exists: a system pcscd" \
		    "accepts virtual cards from the network; remove it (we do not use it)"
	fi
}

# _free_port: a TCP port with it and the next one unused.
_free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		if ! ss -ltnH 2>/dev/null | awk '{print $4}' | grep -Eq ":($p|$((p + 1)))\$"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# pcscd_start: private pcscd in $ZM_DIR/pcsc; exports PCSCLITE_CSOCK_NAME
# and sets VPCD_PORT.  The daemon and the tests share that socket.
pcscd_start() {
	local d=$ZM_DIR/pcsc
	mkdir -p "$d/reader.conf.d" /run/pcscd
	VPCD_PORT=${VPCD_PORT:-$(_free_port)} || bail_out "no free port"
	cat >"$d/reader.conf.d/vpcd" <<EOC
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$VPCD_PORT
LIBPATH      $VPCD_LIB
CHANNELID    $VPCD_PORT
EOC
	export PCSCLITE_CSOCK_NAME=$d/pcscd.comm
	rm -f "$PCSCLITE_CSOCK_NAME"
	systemd-socket-activate -l "$PCSCLITE_CSOCK_NAME" \
	    "$PCSCD_BIN" -f -c "$d/reader.conf.d" >>"$d/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	local i
	for i in $(seq 100); do
		[[ -S $PCSCLITE_CSOCK_NAME ]] && break
		sleep 0.02
	done
	# The first client starts pcscd; wait for the two vpcd readers.
	"$ZM_PCSC_WAIT" readers 5000 >/dev/null || return 1
}

pcscd_stop() {
	if [[ -n $PCSCD_PID ]]; then
		kill -TERM "$PCSCD_PID" 2>/dev/null
		wait "$PCSCD_PID" 2>/dev/null
		PCSCD_PID=""
	fi
}

# vcard_start STATE [vcard options...]: the card, inserted; waits until
# pcscd sees it.  APDUs are logged to $ZM_DIR/apdu.log.
vcard_start() {
	local state=$1
	shift
	"$ZM_VCARD" --port "$VPCD_PORT" --state "$state" \
	    --log "$ZM_DIR/apdu.log" "$@" 2>>"$ZM_DIR/vcard.log" &
	VCARD_PID=$!
	"$ZM_PCSC_WAIT" present 5000
}

vcard_stop() {
	if [[ -n $VCARD_PID ]]; then
		kill -TERM "$VCARD_PID" 2>/dev/null
		wait "$VCARD_PID" 2>/dev/null
		VCARD_PID=""
		"$ZM_PCSC_WAIT" absent 5000
	fi
}

vcard_remove() { kill -USR1 "$VCARD_PID" && "$ZM_PCSC_WAIT" absent 5000; }
vcard_insert() { kill -USR2 "$VCARD_PID" && "$ZM_PCSC_WAIT" present 5000; }

# apdu_count: APDUs logged so far.
apdu_count() {
	grep -c '^> ' "$ZM_DIR/apdu.log" 2>/dev/null || echo 0
}

pcsc_cleanup() {
	vcard_stop >/dev/null 2>&1
	pcscd_stop
}
