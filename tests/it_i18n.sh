#!/bin/bash
# it_i18n.sh - prompts and refusals in the user's language (Japanese and
# English are shipped).  Needs the ja_JP.UTF-8 locale and the installed
# catalog (`make install` puts it under $(localedir)).
. "$(dirname "$0")/lib.sh"

locale -a 2>/dev/null | grep -Eqi '^ja_JP\.utf-?8$' ||
    skip_all "locale ja_JP.UTF-8 not generated (localedef -i ja_JP -f UTF-8 ja_JP.UTF-8)"
mo=${ZM_LOCALEDIR:-/nonexistent}/ja/LC_MESSAGES/zonemfa.mo
# make distcheck (ZM_DISTCHECK=1, scripts/check) runs make check before
# make install: no catalog there, by design; build 1 runs this test.
if [[ ! -e $mo && ${ZM_DISTCHECK:-0} == 1 ]]; then
	skip_all_env "distcheck: make check runs before make install (no catalog at $mo); build 1 runs this test"
fi
[[ -e $mo ]] || skip_all "Japanese catalog not installed: $mo (run make install)"

zm_setup
start_daemon || bail_out "zonemfa-tokend did not start: $(tail -n 5 "$ZM_DIR/tokend.log")"
enroll_totp alice S_ALICE || bail_out "cannot enrol alice: $OUT"
enroll_totp bob S_BOB || bail_out "cannot enrol bob: $OUT"
ok "hd1 enrols alice and bob"

# expect_ja PCRE DESC: OUT has a line with hiragana, katakana or kanji
# that also matches PCRE (grep -P needs a UTF-8 locale for \p{...}).
JA='[\p{Hiragana}\p{Katakana}\p{Han}]'
expect_ja() {
	if LC_ALL=C.UTF-8 grep -Pq "(?=.*$JA)$1" <<<"$OUT"; then
		ok "$2"
	else
		not_ok "$2"
	fi
}

# Control: in the C locale the prompt is English.
LC_ALL=C LANG=C run_login lgwan alice "$(password alice)" "$(totp_code "$S_ALICE")"
expect_match '^auth: PAM_SUCCESS' "C locale: alice logs in"
if LC_ALL=C.UTF-8 grep -Pq "$JA" <<<"$OUT"; then
	not_ok "C locale: no Japanese text"
else
	ok "C locale: no Japanese text"
fi

export LANG=ja_JP.UTF-8 LC_ALL=ja_JP.UTF-8
unset LANGUAGE
run_login --no-session lgwan alice "$(password alice)" "$(totp_code "$S_ALICE" 30)"
expect_match '^auth: PAM_SUCCESS' "ja_JP.UTF-8: alice logs in"
# The OTP prompt is the only prompt after pam_matrix's "Password: ".
expect_ja '' "ja_JP.UTF-8: the one-time code prompt is Japanese"

bad=$(wrong_code "$S_BOB")
for _ in 1 2 3; do
	run_login lgwan bob "$(password bob)" "$bad"
done
expect_match '^auth: PAM_AUTH_ERR' "ja_JP.UTF-8: bob is refused after 3 wrong codes"
expect_ja '.*[0-9]{2}:[0-9]{2}' "ja_JP.UTF-8: the lockout message is Japanese and gives HH:MM"
expect_no_match 'locked until' "ja_JP.UTF-8: the English lockout text is not shown"

# sshd never calls setlocale(), and the ssh client octal-escapes every
# non-ASCII byte of a keyboard-interactive message: in such an
# application the auth phase speaks plain ASCII English; the session
# phase (shown as is) takes the language from the environment.
run_login --c-locale lgwan alice "$(password alice)" ""
expect_match '^PROMPT: One-time code' "application in the C locale (like sshd), LANG=ja_JP.UTF-8: the auth prompt is English"
if LC_ALL=C.UTF-8 grep -Pq "$JA|[^[:print:][:space:]]" <<<"$OUT"; then
	not_ok "application in the C locale: the auth phase is plain ASCII (nothing for ssh to escape)"
else
	ok "application in the C locale: the auth phase is plain ASCII (nothing for ssh to escape)"
fi
run as_user hd1 zm_enroll unlock bob
run_login --c-locale lgwan bob "$(password bob)" "$(totp_code "$S_BOB" 30)"
expect_match '^session: PAM_SUCCESS' "application in the C locale, LANG=ja_JP.UTF-8: bob's session opens"
expect_ja '^INFO: ' "application in the C locale, LANG=ja_JP.UTF-8: the session's last-login line is Japanese"

stop_daemon_ok
done_testing
