#!/bin/bash
# it_card.sh - IC card logins through the real pcscd (private, with a vpcd
# virtual reader), the virtual card tests/vcard, the real libpam, the real
# pam_zonemfa.so and the real zonemfa-tokend.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pcscd.sh"
zm_setup
pcscd_require
trap 'pcsc_cleanup; zm_cleanup' EXIT
sed -i 's/^pcsc = no$/pcsc = yes/' "$ZM_CONF"

pcscd_start || bail_out "private pcscd did not start: $(tail -n 5 "$ZM_DIR/pcsc/pcscd.log")"
ok "private pcscd with a vpcd reader (PCSCLITE_CSOCK_NAME, private reader dir)"
start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"

# card_enrol OPERATOR USER PIN [replace]: sets IDENT from the output.
card_enrol() {
	local op=$1 user=$2 pin=$3 cmd=${4:-card}
	CMD="[as $op] zonemfa-enroll $cmd $user <<< PIN"
	OUT=$(printf '%s\n' "$pin" | ZM_AS=$op zm_exec "$ZM_ENROLL" -c "$ZM_CONF" "$cmd" "$user" 2>&1)
	RC=$?
	IDENT=$(sed -n 's/^enrolled: token [0-9]* (card, [a-z]* \([0-9a-fA-F]*\)) for .*/\1/p' <<<"$OUT")
}

# ---- PIV, ECC P-256
vcard_start "$ZM_DIR/cardA" --profile piv --alg ec ||
    bail_out "pcscd does not see the virtual card"
ok "the virtual PIV card is seen by pcscd"

card_enrol hd1 alice 123456
expect_rc 0 "R3: hd1 enrols the PIV card for alice (PIN + signature): exit 0"
expect_match '^enrolled: token [0-9]+ \(card, piv [0-9a-f]{32}\) for alice$' \
    "enrol prints the token, the profile and the card identifier"
IDENT_A=$IDENT

run as_user hd1 zm_enroll list alice
expect_match 'alice +card +active +piv ' "list shows alice's card with its profile"

card_enrol hd1 bob 123456
expect_rc 1 "R3: the same card cannot be enrolled for bob"
expect_match 'already enrolled' "the refusal says the card is already enrolled"

# R1 R2: mynumber = knowledge + possession: card PIN + signature.
n0=$(apdu_count)
run_login mynumber alice "$(password alice)" 123456
expect_match '^auth: PAM_SUCCESS' "R1 R2: PIV login at mynumber (password + card PIN/signature) succeeds"
expect_match 'PIN \(3 tries left\)' "the PIN prompt tells the tries left (counter queried first)"
expect_match '^session: PAM_SUCCESS' "the session opens"
n1=$(apdu_count)
apdus=$((n1 - n0))
if [[ $apdus -le 4 && $apdus -ge 3 ]]; then
	ok "a PIV login takes $apdus APDUs (<= 4, no certificate re-read)"
else
	not_ok "a PIV login takes $apdus APDUs (<= 4, no certificate re-read)"
fi
check "R15: the card login is audited with method card" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result ok)" 'card')" -ge 1

stop_daemon_ok
done_testing
