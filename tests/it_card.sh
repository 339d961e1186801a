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

# apdus HEX...: send in one connection; RESP holds the answers, one a line.
apdus() {
	CMD="zm-pcsc-wait apdu $*"
	RESP=$("$ZM_PCSC_WAIT" apdu "$@" 2>&1)
	OUT=$RESP
}
# resp_sw N: the SW of the Nth answer (1-based).
resp_sw() { sed -n "${1}p" <<<"$RESP" | grep -o '....$'; }
hexrep() { local s="" i; for ((i = 0; i < $2; i++)); do s+=$1; done; printf %s "$s"; }
# ga_chain TEMPLATE: GENERAL AUTHENTICATE RSA 9A, chained as the daemon does.
ga_chain() {
	local t=$1 rest
	rest=$(( (${#t} - 510) / 2 ))
	printf '1087079AFF%s 0087079A%02X%s00' "${t:0:510}" "$rest" "${t:510}"
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

# ---- a forged signature (R2): the card enrolled for alice, now hostile
vcard_stop
vcard_start "$ZM_DIR/cardA" --hostile wrong-signature || bail_out "card A (hostile) not seen"
run_login mynumber alice "$(password alice)" 123456
expect_match '^auth: PAM_AUTH_ERR' "R2: a card whose signature does not verify is refused (PIN right)"
expect_match 'did not prove its key' "the refusal says the card did not prove its key"
check "R15: the forged signature is audited" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result fail)" 'signature does not verify')" -ge 1
for mode in truncated bad-sw oversized; do
	vcard_stop
	vcard_start "$ZM_DIR/cardA" --hostile "$mode" || bail_out "card A ($mode) not seen"
	run_login mynumber alice "$(password alice)" 123456
	expect_match '^auth: PAM_AUTH_ERR' "a hostile card ($mode response to the signing command) is refused"
done
run as_user hd1 zm_enroll unlock alice
vcard_stop

# ---- a card enrolled to alice is refused for bob (R3)
vcard_start "$ZM_DIR/cardB" --profile piv --alg ec || bail_out "card B not seen"
card_enrol hd1 bob 123456
expect_rc 0 "hd1 enrols card B for bob"
vcard_stop
vcard_start "$ZM_DIR/cardA" || bail_out "card A not seen"
run_login mynumber bob "$(password bob)" 123456
expect_match '^auth: PAM_AUTH_ERR' "R3: alice's card (right PIN) is refused for bob"
expect_match 'not enrolled for you' "the refusal says the card is not enrolled for bob"

# ---- wrong PIN: tries left, then the card blocks (and the account locks)
run_login mynumber alice "$(password alice)" 000000
expect_match '^auth: PAM_AUTH_ERR' "a wrong PIN is refused"
expect_match 'Wrong PIN\. 2 tries left' "the refusal says 2 tries left"
run_login mynumber alice "$(password alice)" 111111
expect_match 'Wrong PIN\. 1 try left' "a second wrong PIN: 1 try left"
run_login mynumber alice "$(password alice)" 123456
expect_match 'PIN: 1 try left\. A wrong PIN now blocks' "with one try left the user is warned before the PIN is sent"
expect_match '^auth: PAM_SUCCESS' "the right PIN then succeeds (and resets the card's counter)"
vcard_stop
vcard_start "$ZM_DIR/cardB" || bail_out "card B not seen"
# Bob has one failure (alice's card) already: unlock, so that all three
# wrong PINs reach the card before max_failures (3) locks the account.
run as_user hd1 zm_enroll unlock bob
for pin in 000001 000002 000003; do
	run_login mynumber bob "$(password bob)" "$pin"
done
expect_match '^auth: PAM_AUTH_ERR' "the third wrong PIN is refused"
expect_match 'blocked|[Ll]ocked' "the third wrong PIN says the card is blocked (and R13: the account locked)"
run as_user hd1 zm_enroll unlock bob
run_login mynumber bob "$(password bob)" 123456
expect_match '^auth: PAM_AUTH_ERR' "after 3 wrong PINs the card is blocked: even the right PIN is refused"
expect_match 'PIN of your card is blocked' "the refusal says the PIN is blocked"
if grep -q '^tries 0$' "$ZM_DIR/cardB"; then
	ok "the card's own retry counter is at 0 (blocked on the card)"
else
	not_ok "the card's own retry counter is at 0 (blocked on the card)"
fi
vcard_stop

# ---- JPKI (My Number card user-authentication AP), RSA-2048
vcard_start "$ZM_DIR/cardJ" --profile jpki || bail_out "JPKI card not seen"
card_enrol hd1 carol 1234
expect_rc 0 "hd1 enrols carol's JPKI card (PIN 4 digits + signature)"
expect_match '\(card, jpki [0-9A-F]+\)' "the JPKI card is enrolled with its certificate serial"
IDENT_J=$IDENT
n0=$(apdu_count)
run_login mynumber carol "$(password carol)" 1234
expect_match '^auth: PAM_SUCCESS' "R1 R2: JPKI login at mynumber (password + PIN + RSA signature) succeeds"
n1=$(apdu_count)
diag "JPKI login: $((n1 - n0)) APDUs"
check "a JPKI login re-reads no certificate (6 APDUs: EF selects are its command set)" \
    test $((n1 - n0)) -le 6
# The strict JPKI card: each command's P1-P2, Lc/Le and data checked.
JSEL=00A4040C0AD392F000260100000001
apdus $JSEL 00A4020002000A 00A4020C02000A 00B000000104 00B0800004 00A4020C020017 802A0080083006050000 802A0080053031020100
check "JPKI SELECT EF with P2 00 (an FCI asked for): 6A86" test "$(resp_sw 2)" = 6A86
check "JPKI READ BINARY with an Lc: 6700" test "$(resp_sw 4)" = 6700
check "JPKI READ BINARY by short EF id (P1 bit 8): 6A86" test "$(resp_sw 5)" = 6A86
check "JPKI COMPUTE DIGITAL SIGNATURE whose Lc says more than its data: 6700" test "$(resp_sw 7)" = 6700
check "JPKI COMPUTE DIGITAL SIGNATURE whose DigestInfo length is not its data: 6A80" test "$(resp_sw 8)" = 6A80
grep -q '^> 802A0080' "$ZM_DIR/apdu.log"
check "the JPKI login sends COMPUTE DIGITAL SIGNATURE 80 2A 00 80" test $? -eq 0
run_login mynumber carol "$(password carol)" 9999
expect_match 'Wrong PIN\. 2 tries left' "JPKI: a wrong PIN is refused with the tries left"
run_login mynumber carol "$(password carol)" 1234
expect_match '^auth: PAM_SUCCESS' "JPKI: the right PIN works again"

# ---- replace-card (R6): carol's new JPKI card replaces the old one
vcard_stop
vcard_start "$ZM_DIR/cardJ2" --profile jpki || bail_out "JPKI card 2 not seen"
card_enrol hd1 carol 1234 replace-card
expect_rc 0 "R6: replace-card enrols carol's new card"
expect_match '^replaced: 1 old card' "replace-card reports the old card replaced"
run_login mynumber carol "$(password carol)" 1234
expect_match '^auth: PAM_SUCCESS' "the new card works"
vcard_stop
vcard_start "$ZM_DIR/cardJ" || bail_out "JPKI card not seen"
run_login mynumber carol "$(password carol)" 1234
expect_match '^auth: PAM_AUTH_ERR' "R6: the replaced card is refused"
card_enrol hd1 bob 1234
expect_rc 1 "R6: the replaced card cannot be enrolled again (for anyone)"
run as_user hd1 zm_enroll list carol
expect_match 'carol +card +replaced' "list shows the old card as replaced"
vcard_stop

# ---- revoke --card (R5): the held session ends, the next login is refused
vcard_start "$ZM_DIR/cardA" || bail_out "card A not seen"
if start_held mynumber alice "$(password alice)" 123456; then
	ok "alice's card session is open (zm-login --hold)"
else
	not_ok "alice's card session is open (zm-login --hold)"
fi
run as_user hd1 zm_revoke --user alice --card "$IDENT_A" --reason lost
expect_rc 0 "R5: revoke --card exits 0"
expect_match "^revoked: token [0-9]+ \(card\) of alice" "revoke names the card token"
expect_match '^sessions ended: 1$' "R5: the session opened with the card is ended"
if wait_held 5; then ok "the held session ended"; else not_ok "the held session ended"; fi
run_login mynumber alice "$(password alice)" 123456
expect_match '^auth: PAM_AUTH_ERR' "R5: the next login with the revoked card is refused"
card_enrol hd1 alice 123456
expect_rc 1 "R6: a revoked card cannot be enrolled again"

# ---- no card in the reader
vcard_stop
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_AUTH_ERR' "no card: refused"

# ---- ID-only cards (R2): a FeliCa IDm or a MIFARE UID is never a proof.
# The PC/SC Part 3 storage-card ATR gives them away: no APDU reaches them.
for kind in felica mifare; do
	vcard_start "$ZM_DIR/card-$kind" --profile "$kind" || bail_out "$kind card not seen"
	n0=$(apdu_count)
	run_login mynumber carol "$(password carol)" 1234
	expect_match '^auth: PAM_AUTH_ERR' "R2: carol's login with only a $kind card in the reader is refused"
	expect_match 'only offers an ID number' "R2: the login refusal says why: an ID-only card ($kind)"
	card_enrol adm1 hd2 123456
	expect_rc 1 "R2: a $kind card cannot be enrolled"
	expect_match 'ID-only card cannot be used' "R2: the enrolment refusal says why: an ID-only card ($kind)"
	check "R2: the $kind card's ID was never read (no APDU sent to it)" test "$(apdu_count)" -eq "$n0"
	vcard_stop
done
check "R2 R15: the ID-only refusals are audited 'id-only card' (2 logins, 2 enrolments)" \
    test "$(audit_count "$(jf reason 'id-only card')")" -eq 4
# The same MIFARE card behind an ordinary contact ATR: it is connected to,
# answers no SELECT and is refused as not supported; its UID (GET DATA FF
# CA) is never asked for, so it cannot stand in for a proof.
vcard_start "$ZM_DIR/card-mifare" --atr 3B8880015A4D504956000001FE ||
    bail_out "mifare card (contact ATR) not seen"
run_login mynumber carol "$(password carol)" 1234
expect_match '^auth: PAM_AUTH_ERR' "R2: a card with no PIV/JPKI application is refused at login"
check "R15: the login refusal is audited as not a supported card" \
    test "$(audit_count "$(jf event auth)" "$(jf user carol)" 'not a supported card')" -eq 1
card_enrol adm1 hd2 123456
expect_rc 1 "R2: a card with no PIV/JPKI application cannot be enrolled"
check "R15: the enrolment refusal is audited as not a supported card" \
    test "$(audit_count "$(jf event enrol)" "$(jf user hd2)" "$(jf reason 'not a supported card')")" -eq 1
check "R2: no UID was ever asked for (no GET DATA FF CA in the APDU log)" \
    test "$(grep -c '^> FFCA' "$ZM_DIR/apdu.log")" -eq 0
run as_user hd1 zm_enroll list hd2
expect_no_match 'card' "R2: nothing was bound to hd2 (no card token)"
vcard_stop

# ---- PIV RSA-2048 (R1 R2): the 256-byte challenge goes by command
# chaining (CLA 10), the 264-byte answer comes back by GET RESPONSE.
vcard_start "$ZM_DIR/cardR" --profile piv --alg rsa || bail_out "PIV RSA card not seen"
card_enrol adm1 hd2 123456
expect_rc 0 "R3: adm1 enrols a PIV RSA-2048 card for hd2 (a staff account)"
expect_match '\(card, piv [0-9a-f]{32}\)' "the PIV RSA card is enrolled with its card UUID"
n0=$(apdu_count)
run_login mynumber hd2 "$(password hd2)" 123456
expect_match '^auth: PAM_SUCCESS' "R1 R2: PIV RSA-2048 login at mynumber succeeds"
n1=$(apdu_count)
apdus=$((n1 - n0))
# SELECT, VERIFY (counter), VERIFY, GENERAL AUTHENTICATE x2, GET RESPONSE.
check "a PIV RSA-2048 login takes $apdus APDUs (6: chaining + GET RESPONSE, no certificate re-read)" \
    test "$apdus" -eq 6
tail -n $((3 * apdus)) "$ZM_DIR/apdu.log" | grep -q '^> 1087079A'
check "the login chains GENERAL AUTHENTICATE (CLA 10, RSA-2048 07, slot 9A)" test $? -eq 0
tail -n $((3 * apdus)) "$ZM_DIR/apdu.log" | grep -q '^> 00C00000'
check "the login fetches the signature with GET RESPONSE" test $? -eq 0
vcard_stop
vcard_start "$ZM_DIR/cardR" --hostile wrong-signature || bail_out "PIV RSA card (hostile) not seen"
run_login mynumber hd2 "$(password hd2)" 123456
expect_match '^auth: PAM_AUTH_ERR' "R2: a PIV RSA card whose signature does not verify is refused"
vcard_stop
run as_user adm1 zm_enroll unlock hd2

# ---- the card is strict (SP 800-73-4, ISO 7816-4): every length and TLV
# is checked, as a real card does.  The 7C template the daemon sent before
# the fix claimed 2 bytes more than its contents: that card answers 6A 80.
SEL=00A4040009A00000030800001000
SEL+=00
VER=0020008008313233343536FFFF
BLK=0001$(hexrep FF 202)003031300D060960864801650304020105000420$(hexrep AB 32)
GOOD=7C820106820081820100$BLK
OLD=7C820108820081820100$BLK
vcard_start "$ZM_DIR/cardR" || bail_out "PIV RSA card not seen"
apdus $SEL $VER $(ga_chain "$OLD")
check "the strict card takes the first chained part (90 00)" test "$(resp_sw 3)" = 9000
check "R2: the old malformed 7C (length 2 more than its contents) is refused 6A80 by the strict card" \
    test "$(resp_sw 4)" = 6A80
apdus $SEL $VER $(ga_chain "$GOOD")
check "the exact 7C template is signed (61 08: 264 bytes, the rest by GET RESPONSE)" \
    test "$(resp_sw 4)" = 6108
apdus $SEL $VER $(ga_chain "7C820105820081820100$BLK")
check "a 7C length 1 short of its contents: 6A80" test "$(resp_sw 4)" = 6A80
apdus $SEL $VER $(ga_chain "7C820106820081820101$BLK")
check "an 81 length past the end of 7C: 6A80" test "$(resp_sw 4)" = 6A80
apdus $SEL $VER $(ga_chain "7C820106820081800100$BLK")
check "an indefinite (80) BER length: 6A80" test "$(resp_sw 4)" = 6A80
apdus $SEL $VER $(ga_chain "7C820106810081820100$BLK")
check "81 twice (no 82 00 response request): 6A80" test "$(resp_sw 4)" = 6A80
apdus $SEL $VER $(ga_chain "7C820106800081820100$BLK")
check "a witness (80) where a signature is asked: 6A80" test "$(resp_sw 4)" = 6A80
apdus $SEL $VER "1087119AFF${GOOD:0:510}"
check "GENERAL AUTHENTICATE with the wrong algorithm (11 on an RSA key): 6A86" test "$(resp_sw 3)" = 6A86
apdus $SEL $(ga_chain "$GOOD")
check "a well-formed signing command before VERIFY: 6982" test "$(resp_sw 3)" = 6982
apdus $SEL $VER "1087079AFF${GOOD:0:510}" 00CB3FFF055C035FC10200
check "a chain broken by another command: 6883" test "$(resp_sw 4)" = 6883
apdus $SEL 10CB3FFF055C035FC10200
check "chaining (CLA 10) on GET DATA: 6884" test "$(resp_sw 2)" = 6884
apdus $SEL 0087079A10820081
check "an Lc that says more than the data: 6700" test "$(resp_sw 2)" = 6700
apdus $SEL 0087079A000003820081
check "an extended-length APDU (not offered by this card): 6700" test "$(resp_sw 2)" = 6700
apdus $SEL 84CB3FFF055C035FC10200
check "an unknown class (84): 6E00" test "$(resp_sw 2)" = 6E00
apdus $SEL 00CB3FFF055C045FC10200 00CB3FFF065C035FC102 00CB3FFE055C035FC10200 00CB3FFF05
check "GET DATA with a 5C length that is not its contents: 6A80" test "$(resp_sw 2)" = 6A80
check "GET DATA 5C with the wrong length in Lc: 6700" test "$(resp_sw 3)" = 6700
check "GET DATA with P1-P2 other than 3F FF: 6A86" test "$(resp_sw 4)" = 6A86
check "GET DATA with Lc and no data: 6700" test "$(resp_sw 5)" = 6700
apdus $SEL 00C0000000
check "GET RESPONSE with nothing waiting: 6985" test "$(resp_sw 2)" = 6985
apdus $SEL 0020008008313233FF343536FF 00200080 00200080073132333435363700 0020008108313233343536FFFF
check "VERIFY with digits after the FF padding: 6A80" test "$(resp_sw 2)" = 6A80
check "... and it cost no PIN try (63C3)" test "$(resp_sw 3)" = 63C3
check "VERIFY with a 7-byte PIN block and an Le: 6700" test "$(resp_sw 4)" = 6700
check "VERIFY of another key reference (81, the PUK): 6A88" test "$(resp_sw 5)" = 6A88
apdus $SEL 0020008008393939393939FFFF 00200080 $VER
check "a wrong PIN: 63C2 (tries left)" test "$(resp_sw 2)" = 63C2
check "the counter query says 63C2" test "$(resp_sw 3)" = 63C2
check "the right PIN: 9000 (the counter is back at 3)" test "$(resp_sw 4)" = 9000
apdus 00A4040C09A0000003080000100000
check "PIV SELECT with P2 0C (SP 800-73-4: 00 only): 6A86" test "$(resp_sw 1)" = 6A86
apdus 00A4040009A00000030800001001
check "SELECT of an AID that is not PIV's (last byte wrong): 6A82" test "$(resp_sw 1)" = 6A82

# A card that refuses the signing command (6A 80, well formed) is not a
# card whose signature does not verify: the user and the audit log say so.
vcard_stop
vcard_start "$ZM_DIR/cardR" --hostile refuse-sign || bail_out "PIV RSA card (refuse-sign) not seen"
run_login mynumber hd2 "$(password hd2)" 123456
expect_match '^auth: PAM_AUTH_ERR' "a card that refuses GENERAL AUTHENTICATE is refused"
expect_match 'The IC card refused a command' "the user is told the card refused a command"
expect_no_match 'did not prove its key' "... not that the card did not prove its key"
check "R15: audited as the card refusing GENERAL AUTHENTICATE with SW 6A80" \
    test "$(audit_count "$(jf event auth)" "$(jf user hd2)" 'card refused the command .GENERAL AUTHENTICATE: SW 6A80 .wrong data')" -eq 1
run as_user adm1 zm_enroll unlock hd2
vcard_stop
vcard_start "$ZM_DIR/cardR3" --profile piv --alg rsa --hostile refuse-sign || bail_out "PIV RSA card 3 not seen"
card_enrol adm1 hd2 123456
expect_rc 1 "an enrolment whose card refuses to sign fails"
expect_match 'card refused a command' "the operator is told the card refused a command"
expect_no_match 'did not prove' "... not that its signature does not verify"
check "R15: the enrolment refusal is audited with the command and its SW" \
    test "$(audit_count "$(jf event enrol)" "$(jf user hd2)" "$(jf reason 'card refused the command')" 'GENERAL AUTHENTICATE: SW 6A80')" -eq 1
vcard_stop

# ---- card_ca (R2): the card certificate must chain to it and be valid,
# at enrolment (read from the card) and at every login (the certificate
# kept at enrolment: a login reads none).
# with_card_ca [PEM]: restart the daemon with card_ca = PEM (none: unset).
with_card_ca() {
	stop_daemon
	sed -i '/^card_ca = /d' "$ZM_CONF"
	if [[ -n ${1:-} ]]; then
		sed -i "s|^pcsc = yes\$|&\ncard_ca = $1|" "$ZM_CONF"
	fi
	start_daemon || bail_out "zonemfa-tokend did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
}
CA1=$ZM_DIR/ca1.pem
CA2=$ZM_DIR/ca2.pem
vcard_start "$ZM_DIR/cardS" --profile piv --alg ec || bail_out "card S not seen"
card_enrol root adm1 123456
expect_rc 0 "root enrols adm1's self-signed PIV card while card_ca is unset"
run_login mynumber adm1 "$(password adm1)" 123456
expect_match '^auth: PAM_SUCCESS' "adm1's self-signed card logs in while card_ca is unset"
vcard_stop
# CA1 and CA2 are made by the first card that names them.
vcard_start "$ZM_DIR/cardC1" --profile piv --alg ec --issuer "$CA1" || bail_out "card C1 not seen"
with_card_ca "$CA1"
run as_user hd1 zm_enroll unlock alice
card_enrol hd1 alice 123456
expect_rc 0 "R2: with card_ca set, a card issued by that CA is enrolled"
run_login mynumber alice "$(password alice)" 123456
expect_match '^auth: PAM_SUCCESS' "R2: with card_ca set, the card issued by it logs in"
vcard_stop
vcard_start "$ZM_DIR/cardS" || bail_out "card S not seen"
run_login mynumber adm1 "$(password adm1)" 123456
expect_match '^auth: PAM_AUTH_ERR' "R2: card_ca set after enrolment: adm1's self-signed card is refused at login"
check "R15: the login refusal is audited: the certificate does not chain to card_ca" \
    test "$(audit_count "$(jf event auth)" "$(jf user adm1)" "$(jf result fail)" 'does not chain to card_ca')" -eq 1
vcard_stop
vcard_start "$ZM_DIR/cardO" --profile piv --alg ec --issuer "$CA2" || bail_out "card O not seen"
card_enrol hd1 bob 123456
expect_rc 1 "R2: a card issued by another CA is not enrolled"
check "R15: the refusal is audited: does not chain to card_ca" \
    test "$(audit_count "$(jf event enrol)" "$(jf user bob)" "$(jf reason 'certificate does not chain to card_ca or expired')")" -eq 1
vcard_stop
vcard_start "$ZM_DIR/cardE" --profile piv --alg ec --issuer "$CA1" --expired || bail_out "card E not seen"
card_enrol hd1 bob 123456
expect_rc 1 "R2: a card whose certificate (issued by card_ca) has expired is not enrolled"
check "R15: the expired certificate's refusal is audited" \
    test "$(audit_count "$(jf event enrol)" "$(jf user bob)" "$(jf reason 'certificate does not chain to card_ca or expired')")" -eq 2
vcard_stop
# card_ca changed to another CA: alice's CA1 card is refused at login.
vcard_start "$ZM_DIR/cardC1" --issuer "$CA1" || bail_out "card C1 not seen"
with_card_ca "$CA2"
run_login mynumber alice "$(password alice)" 123456
expect_match '^auth: PAM_AUTH_ERR' "R2: card_ca replaced by another CA: the card enrolled under the old one is refused at login"
vcard_stop
# Control: without card_ca the self-signed card works again.
with_card_ca ""
vcard_start "$ZM_DIR/cardS" || bail_out "card S not seen"
run_login mynumber adm1 "$(password adm1)" 123456
expect_match '^auth: PAM_SUCCESS' "card_ca unset again: adm1's card logs in (the refusal was the CA's)"

# R5: a card revoked while its login waits at the PIN prompt is refused
# when the PIN comes (the keys were loaded before the revocation).
mkfifo "$ZM_DIR/pin.fifo"
_zm_login_env
"${_ZM_ENV[@]}" "$ZM_LOGIN" mynumber adm1 <"$ZM_DIR/pin.fifo" >"$ZM_DIR/mid.out" 2>&1 &
mid=$!
exec 7>"$ZM_DIR/pin.fifo"
printf '%s\n' "$(password adm1)" >&7
for _ in $(seq 100); do
	grep -q 'PIN' "$ZM_DIR/mid.out" 2>/dev/null && break
	sleep 0.05
done
run as_user root zm_revoke --user adm1 --all --reason stolen
expect_rc 0 "root revokes adm1's card while its login waits for the PIN"
printf '123456\n' >&7
exec 7>&-
wait "$mid"
OUT=$(cat "$ZM_DIR/mid.out")
CMD="zm-login mynumber adm1 (password, then the PIN after the revocation)"
expect_match '^auth: PAM_AUTH_ERR' "R5: the login that was waiting at the PIN prompt is refused"
check "R5/R15: audited as a card revoked during the login" \
    test "$(audit_count "$(jf event auth)" "$(jf user adm1)" 'card revoked during the login')" -eq 1
vcard_stop

# ---- PIV RSA-2048 on a card whose ATR offers extended Lc/Le: one extended
# GENERAL AUTHENTICATE (the template and the whole signature) instead of
# chaining and GET RESPONSE.
vcard_start "$ZM_DIR/cardX" --profile piv --alg rsa --extended || bail_out "PIV RSA card (extended) not seen"
card_enrol root adm1 123456
expect_rc 0 "root enrols adm1's PIV RSA-2048 card that offers extended-length APDUs"
n0=$(apdu_count)
run_login mynumber adm1 "$(password adm1)" 123456
expect_match '^auth: PAM_SUCCESS' "R1 R2: PIV RSA-2048 login with extended-length APDUs succeeds"
n1=$(apdus=$(( $(apdu_count) - n0 )); echo "$apdus")
check "a PIV RSA-2048 login on an extended-length card takes $n1 APDUs (4, not 6)" test "$n1" -eq 4
tail -n $((3 * n1)) "$ZM_DIR/apdu.log" | grep -q '^> 0087079A00010A7C820106'
check "the login sends one extended GENERAL AUTHENTICATE (Lc 00 01 0A, 7C 82 01 06)" test $? -eq 0
check "... and no chained part (CLA 10) nor GET RESPONSE" \
    test "$(tail -n $((3 * n1)) "$ZM_DIR/apdu.log" | grep -c '^> \(1087\|00C0\)')" -eq 0
vcard_stop

stop_daemon_ok
done_testing
