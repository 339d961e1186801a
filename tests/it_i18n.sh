#!/bin/bash
# it_i18n.sh - prompts and refusals in the user's language (Japanese and
# English are shipped).  Needs the ja_JP.UTF-8 locale and the installed
# catalog (`make install` puts it under $(localedir)).
. "$(dirname "$0")/lib.sh"

locale -a 2>/dev/null | grep -Eqi '^ja_JP\.utf-?8$' ||
    skip_all "locale ja_JP.UTF-8 not generated (localedef -i ja_JP -f UTF-8 ja_JP.UTF-8)"
mo=${ZM_LOCALEDIR:-/nonexistent}/ja/LC_MESSAGES/zonemfa.mo
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

# sshd never calls setlocale(): the module takes the language from the
# environment (the PAM environment first), for its own messages only.
run_login --c-locale --no-session lgwan alice "$(password alice)" ""
expect_match '^PROMPT: ' "application in the C locale (like sshd), LANG=ja_JP.UTF-8: the code is asked for"
expect_ja '^PROMPT: ' "application in the C locale, LANG=ja_JP.UTF-8: the prompt is Japanese, not escaped"
LANG=C LC_ALL= run_login --c-locale --no-session lgwan bob "$(password bob)" "x"
if LC_ALL=C.UTF-8 grep -Pq "$JA|[^[:print:][:space:]]" <<<"$OUT"; then
	not_ok "application and environment in the C locale: plain ASCII English"
else
	ok "application and environment in the C locale: plain ASCII English"
fi

stop_daemon_ok
done_testing
