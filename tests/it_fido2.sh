#!/bin/bash
# it_fido2.sh - FIDO2 keys end to end: the real libpam, pam_zonemfa.so, the
# real daemon with the real libfido2, talking CTAPHID to tests/fido_sw
# through --fido-hid-socket.  Several fixture processes take turns on one
# socket path: each is "a key plugged in"; its state file is the key.
. "$(dirname "$0")/lib.sh"
zm_setup

FIDO_SW=$top_builddir/tests/fido_sw
[[ -x $FIDO_SW ]] || skip_all "not built: $FIDO_SW"
KEY_SOCK=$ZM_DIR/key.sock
KEY_PID=""

# plug STATE [fido_sw options]: the key with that state file is plugged in.
plug() {
	local st=$1 i
	shift
	unplug
	"$FIDO_SW" --socket "$KEY_SOCK" --state "$ZM_DIR/$st.state" "$@" \
	    >>"$ZM_DIR/fido_sw.log" 2>&1 &
	KEY_PID=$!
	ZM_HELD_PIDS="$ZM_HELD_PIDS $KEY_PID"
	for i in $(seq 100); do
		[[ -S $KEY_SOCK ]] && return 0
		sleep 0.02
	done
	bail_out "fido_sw did not start"
}

unplug() {
	if [[ -n $KEY_PID ]]; then
		kill -TERM "$KEY_PID" 2>/dev/null
		wait "$KEY_PID" 2>/dev/null
		KEY_PID=""
	fi
	rm -f "$KEY_SOCK"
}

# Zones of this test.  "bio": a key with built-in UV alone (possession +
# inherence).  "mn_nopw": the My Number requirement (knowledge +
# possession) with no password in the stack.
cat >>"$ZM_CONF" <<EOF

[zone bio]
require = possession inherence
methods = fido2
password = none
max_failures = 5
lockout = 30m

[zone mn_nopw]
require = knowledge possession
methods = fido2 totp
password = none
max_failures = 5
lockout = 30m
EOF
for z in bio mn_nopw; do
	cat >"$ZM_PAMD/$z" <<EOF
auth	required	$ZM_MODULE conf=$ZM_CONF zone=$z
account	required	$ZM_MODULE conf=$ZM_CONF zone=$z
session	required	$ZM_MODULE conf=$ZM_CONF zone=$z
EOF
done

plug keyA --uv on
start_daemon --fido-hid-socket "$KEY_SOCK" ||
    bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"

# ---- enrolment
run as_user hd1 zm_enroll fido2 alice
expect_rc 0 "hd1 enrols alice's key (fido2): exit 0"
expect_match '^enrolled: token [0-9]+ \(fido2\) for alice, credential [0-9a-f]{32,}$' \
    "enrolment names the token and the credential id"
run as_user hd1 zm_enroll fido2 hd1
expect_rc 1 "R10: hd1 may not enrol a key for themselves"
run as_user alice zm_enroll fido2 bob
expect_rc 1 "an unprivileged user may not enrol a key"
run as_user hd1 zm_enroll list alice
expect_match 'alice +fido2 +active +FIDO2 packed self, UV built-in' \
    "the listing shows kind fido2, state and the attestation/UV label"
check "the enrolment is audited with the operator and the key's details" \
    test "$(audit_count "$(jf event enrol)" "$(jf user alice)" "$(jf result ok)" \
    '"operator": ?"hd1"' 'fido2 ES256 fmt packed attestation self uv built-in')" -eq 1

# ---- UV from the signed flags
run_login bio alice ""
expect_match '^auth: PAM_SUCCESS' "a key with built-in UV satisfies possession+inherence alone (no password)"
expect_match '[Tt]ouch your security key' "the user is told to touch the key"
run_login mn_nopw alice ""
expect_match '^auth: PAM_AUTH_ERR' "built-in UV is inherence, not knowledge: My Number without a password is refused (SPEC)"
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_SUCCESS' "My Number with the stack password + key succeeds"

plug keyA --uv off
run_login bio alice ""
expect_match '^auth: PAM_AUTH_ERR' "without UV the key alone is refused"
check "the refusal is audited as missing user verification" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf zone bio)" \
    "$(jf reason 'security key gave no user verification')")" -eq 1
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_SUCCESS' "without UV it needs the stack password: that login succeeds"

plug keyA --uv lie
run_login bio alice ""
expect_match '^auth: PAM_AUTH_ERR' "a key that claims UV but does not set the UV flag is refused (flags, not the request)"

# ---- a tampered assertion
plug keyA --tamper
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_AUTH_ERR' "a tampered assertion signature is refused"
check "the tampered assertion is audited as a failure" \
    test "$(audit_count "$(jf event auth)" "$(jf user alice)" "$(jf result fail)" \
    "$(jf reason 'security key refused')")" -ge 1

# ---- a key enrolled to someone else
plug keyB
run as_user hd1 zm_enroll fido2 bob
expect_rc 0 "hd1 enrols bob's own key"
plug keyA
run_login mynumber bob "$(password bob)" ""
expect_match '^auth: PAM_AUTH_ERR' "alice's key does not log bob in (allow list = bob's credentials)"
plug keyB
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_AUTH_ERR' "bob's key does not log alice in"
run_login mynumber bob "$(password bob)" ""
expect_match '^auth: PAM_SUCCESS' "bob's key logs bob in"

# ---- a key that always reports 0 (allowed)
plug keyC --counter zero
run as_user hd1 zm_enroll fido2 carol
expect_rc 0 "hd1 enrols carol's key that never counts"
run_login mynumber carol "$(password carol)" ""
expect_match '^auth: PAM_SUCCESS' "counter 0: first login accepted"
run_login mynumber carol "$(password carol)" ""
expect_match '^auth: PAM_SUCCESS' "counter 0: second login accepted"

# ---- a stuck counter: a cloned key
# The refused (tampered) assertion above moved the key's counter but not
# the stored one: one good login brings them together first.
plug keyA
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_SUCCESS' "alice's key logs her in (counter in step)"
plug keyA --counter stuck
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_AUTH_ERR' "a counter that does not increase is refused"
run as_user hd1 zm_enroll list alice
expect_match 'alice +fido2 +suspended' "the credential is suspended"
check "audit: clone_suspected with both counter values" \
    test "$(audit_count "$(jf event clone_suspected)" "$(jf user alice)" \
    'counter [0-9]+ stored [0-9]+; credential suspended')" -eq 1
plug keyA
run_login mynumber alice "$(password alice)" ""
expect_match '^auth: PAM_AUTH_ERR' "the suspended credential stays refused even when it counts again"

# ---- revocation ends the session opened with the key
plug keyB
if start_held mynumber bob "$(password bob)" ""; then
	ok "bob's session with his key is open (zm-login --hold)"
else
	not_ok "bob's session with his key is open (zm-login --hold)"
fi
tok=$(ZM_AS=hd1 zm_enroll list bob | awk '$3 == "fido2" && $4 == "active" { print $1; exit }')
run as_user hd1 zm_revoke --user bob --token "$tok" --reason lost
expect_rc 0 "hd1 revokes bob's key"
expect_match '^revoked: token [0-9]+ \(fido2\) of bob' "revoke names the fido2 token"
expect_match '^sessions ended: 1$' "the session opened with the key is ended"
if wait_held 5; then ok "the held session ended"; else not_ok "the held session ended"; fi
run_login mynumber bob "$(password bob)" ""
expect_match '^auth: PAM_AUTH_ERR' "the revoked key is refused"

# ---- a key with a client PIN (CTAP2 clientPin, PIN protocol 1)
# SPEC "How proofs count": UV by PIN is knowledge, so the key alone meets
# the My Number requirement (knowledge + possession) with password = none
# (R1, R2).  The key allows 3 wrong PINs; its counter is in its state file.
plug keyP --uv off --pin 4321 --pin-retries 3
run as_user adm1 zm_enroll fido2 hd2
expect_rc 0 "adm1 enrols hd2's key that has a client PIN (no PIN needed to enrol)"
run as_user hd1 zm_enroll list hd2
expect_match 'hd2 +fido2 +active +FIDO2 packed self, UV PIN' "the listing says UV by PIN"
run_login mn_nopw hd2 4321
expect_match '^auth: PAM_SUCCESS' "R1/R2: key + its PIN satisfies My Number with password=none alone"
expect_match 'PIN of your security key, 3 tries left' "the user is asked for the key's PIN, with the key's tries left"
# (Session records name the login's pid, which may happen to be 4321.)
check "the PIN login is audited as ok, and no PIN appears in the log" \
    test "$(audit_count "$(jf event auth)" "$(jf user hd2)" "$(jf zone mn_nopw)" \
    "$(jf result ok)")" -eq 1 -a \
    "$(sed -E 's/pid [0-9]+//g' "$ZM_AUDIT_LOG" |
    grep -cE '(^|[^0-9a-f])4321([^0-9a-f]|$)')" -eq 0
run_login mynumber hd2 "$(password hd2)" ""
expect_match '^auth: PAM_SUCCESS' "with the stack password knowledge is proven: only a touch, no PIN"
if [[ $OUT == *"PIN of your security key"* ]]; then
	not_ok "no key PIN asked when the password proved knowledge"
else
	ok "no key PIN asked when the password proved knowledge"
fi
run_login mn_nopw hd2 9999
expect_match '^auth: PAM_AUTH_ERR' "a wrong key PIN is refused"
check "the wrong PIN is counted (audit: failure 1 of 5)" \
    test "$(audit_count "$(jf event auth)" "$(jf user hd2)" "$(jf result fail)" \
    "$(jf reason 'wrong security key PIN')" 'failure 1 of 5')" -eq 1
check "the key counted it too (2 PIN tries left in its state)" \
    grep -qx 'retries 2' "$ZM_DIR/keyP.state"
run_login mn_nopw hd2 12
expect_match '^auth: PAM_AUTH_ERR' "a PIN too short for CTAP2 is refused"
check "a too short PIN is counted by us but never sent to the key" \
    grep -qx 'retries 2' "$ZM_DIR/keyP.state"
run_login mn_nopw hd2 4321
expect_match '^auth: PAM_SUCCESS' "the right PIN after wrong ones logs in"
expect_match 'PIN of your security key, 2 tries left' "the prompt showed 2 tries left"
check "a right PIN restores the key's tries" grep -qx 'retries 3' "$ZM_DIR/keyP.state"
for i in 1 2 3; do
	run_login mn_nopw hd2 0000
done
expect_match '^auth: PAM_AUTH_ERR' "three wrong PINs in a row are refused"
check "the third wrong PIN is audited as blocking the key's PIN" \
    test "$(audit_count "$(jf event auth)" "$(jf user hd2)" \
    "$(jf reason 'wrong security key PIN, PIN blocked')")" -eq 1
run_login mn_nopw hd2 4321
expect_match '^auth: PAM_AUTH_ERR' "a blocked key PIN: even the right PIN is refused"
expect_match 'PIN of your security key is blocked' "the user is told the key's PIN is blocked (before typing it)"
check "the blocked PIN refusal is audited" \
    test "$(audit_count "$(jf event auth)" "$(jf user hd2)" \
    "$(jf reason 'security key PIN blocked')")" -eq 1
run_login mynumber hd2 "$(password hd2)" ""
expect_match '^auth: PAM_SUCCESS' "a key with a blocked PIN still proves possession beside the stack password"

# ---- an EdDSA credential: the key lists EdDSA in getInfo, the daemon takes it
plug keyG --alg eddsa
run as_user hd1 zm_enroll fido2 bob
expect_rc 0 "hd1 enrols bob's key that offers EdDSA"
check "the credential is EdDSA (audit names the type)" \
    test "$(audit_count "$(jf event enrol)" "$(jf user bob)" "$(jf result ok)" \
    'fido2 EdDSA fmt packed attestation self')" -eq 1
run_login mynumber bob "$(password bob)" ""
expect_match '^auth: PAM_SUCCESS' "an EdDSA credential logs bob in (verified with its Ed25519 key)"
plug keyG --alg eddsa --tamper
run_login mynumber bob "$(password bob)" ""
expect_match '^auth: PAM_AUTH_ERR' "a tampered EdDSA assertion is refused"

# ---- no key plugged in
unplug
run_login mynumber carol "$(password carol)" ""
expect_match '^auth: PAM_AUTH_ERR' "no key plugged in: refused"
expect_match 'No security key is plugged in' "no key plugged in: the user is told to plug it in"

# ---- attestation against fido_attestation_ca (the daemon restarted with it)
# Each fido_sw --attest-ca process makes its own CA and writes it out:
# att-ca.pem is the CA configured, other-ca.pem one that is not.
stop_daemon_ok
sed -i "/^\[tokend\]/a fido_attestation_ca = $ZM_DIR/att-ca.pem" "$ZM_CONF"
plug keyD --attest-ca "$ZM_DIR/att-ca.pem"
start_daemon --fido-hid-socket "$KEY_SOCK" ||
    bail_out "zonemfa-tokend did not restart: $(tail -n 5 "$ZM_DIR/tokend.log")"
run as_user hd1 zm_enroll fido2 carol
expect_rc 0 "a key whose attestation certificate chains to fido_attestation_ca is enrolled"
run as_user hd1 zm_enroll list carol
expect_match 'carol +fido2 +active +FIDO2 packed CA-verified' "the listing says the attestation was CA-verified"
check "the enrolment audit names the chained attestation" \
    test "$(audit_count "$(jf event enrol)" "$(jf user carol)" "$(jf result ok)" \
    'attestation x5c chained to fido_attestation_ca')" -eq 1
run_login mynumber carol "$(password carol)" ""
expect_match '^auth: PAM_SUCCESS' "the CA-verified key logs carol in"
plug keyE --attest-ca "$ZM_DIR/other-ca.pem"
run as_user hd1 zm_enroll fido2 carol
expect_rc 1 "a key attested by another CA is refused"
check "audit: attestation certificate does not chain" \
    test "$(audit_count "$(jf event enrol)" "$(jf user carol)" "$(jf result refused)" \
    "$(jf reason 'attestation certificate does not chain to fido_attestation_ca')")" -eq 1
plug keyF
run as_user hd1 zm_enroll fido2 carol
expect_rc 1 "self attestation is refused when fido_attestation_ca is set"
check "audit: self attestation refused" \
    test "$(audit_count "$(jf event enrol)" "$(jf user carol)" "$(jf result refused)" \
    "$(jf reason 'self attestation refused \(fido_attestation_ca is set\)')")" -eq 1
check "the refused keys added nothing: carol has her first key and the CA-verified one" \
    test "$(ZM_AS=hd1 zm_enroll list carol | grep -Ec 'fido2 +active')" -eq 2

check "audit log verifies" zm_audit verify
stop_daemon_ok
unplug
done_testing
