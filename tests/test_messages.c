/*
 * test_messages.c - the words pam_zonemfa shows (pam_module/messages.c),
 * in the C locale (the msgids are the English texts).
 *
 * R13: the last login / logout times and the failures since are shown.
 * SPEC "PAM module": every refusal says why (locked until HH:MM, revoked,
 * no token enrolled — contact the helpdesk, tries left).
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "err.h"
#include "ipc.h"
#include "messages.h"

#define T0	UINT64_C(1700000000)	/* 2023-11-14 22:13:20 UTC */
#define ZM_TEST_BANNER	4096

static void
test_every_daemon_message_has_words(void **state)
{
	struct zm_msgargs	a = { 0 };
	char			out[512];
	int			id;

	for (id = ZM_MSG_NONE + 1; id < ZM_MSG__MAX; id++) {
		if (zm_message_format(id, &a, out, sizeof(out)) != 0)
			fail_msg("message %d has no text", id);
		assert_true(strlen(out) > 3);
	}
	for (id = ZM_PMSG_UNAVAILABLE; id < ZM_PMSG__END; id++) {
		assert_int_equal(zm_message_format(id, NULL, out,
		    sizeof(out)), 0);
		assert_true(strlen(out) > 3);
	}
}

static void
test_unknown_ids_refused(void **state)
{
	char	out[64] = "x";

	assert_int_equal(zm_message_format(ZM_MSG_NONE, NULL, out,
	    sizeof(out)), ZM_ERR_NOTFOUND);
	assert_string_equal(out, "");
	assert_int_equal(zm_message_format(ZM_MSG__MAX, NULL, out,
	    sizeof(out)), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_message_format(-1, NULL, out, sizeof(out)),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(zm_message_format(ZM_PMSG__END, NULL, out,
	    sizeof(out)), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_message_format(ZM_MSG_AUTH_FAILED, NULL, out, 0),
	    ZM_ERR_TOOBIG);
}

static void
test_wrong_code_tries_left(void **state)
{
	struct zm_msgargs	a = { 0 };
	char			out[512];

	assert_int_equal(zm_message_format(ZM_MSG_WRONG_CODE, &a, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "Wrong one-time code.");
	a.has_count = 1;
	a.count = 2;
	assert_int_equal(zm_message_format(ZM_MSG_WRONG_CODE, &a, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "Wrong one-time code. 2 attempts left "
	    "before the account is locked.");
	a.count = 1;
	assert_int_equal(zm_message_format(ZM_MSG_WRONG_CODE, &a, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "Wrong one-time code. 1 attempt left "
	    "before the account is locked.");
}

static void
test_locked_until(void **state)
{
	struct zm_msgargs	a = { 0 };
	char			out[512];

	/* A lock that ends on another day shows its date. */
	a.time = T0;
	assert_int_equal(zm_message_format(ZM_MSG_LOCKED_UNTIL, &a, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "Account locked until 2023-11-14 22:13. "
	    "Contact the helpdesk to unlock it sooner.");
	/* Until the helpdesk unlocks: no time to show. */
	a.time = 0;
	assert_int_equal(zm_message_format(ZM_MSG_LOCKED_UNTIL, &a, out,
	    sizeof(out)), 0);
	assert_string_equal(out,
	    "Account locked. Contact the helpdesk to unlock it.");
}

static void
test_format_time(void **state)
{
	char	out[32], want[32];
	time_t	now = time(NULL);
	struct tm tm;

	assert_int_equal(zm_format_time(T0, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "2023-11-14 22:13");
	assert_int_equal(zm_format_time(T0, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "2023-11-14 22:13");
	/* Today: HH:MM alone. */
	assert_non_null(localtime_r(&now, &tm));
	assert_true(strftime(want, sizeof(want), "%H:%M", &tm) > 0);
	assert_int_equal(zm_format_time((uint64_t)now, 0, out, sizeof(out)),
	    0);
	assert_string_equal(out, want);
	/* Too small a buffer and absurd times fail, with an empty string. */
	assert_int_equal(zm_format_time(T0, 1, out, 8), ZM_ERR_TOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(zm_format_time(UINT64_MAX, 1, out, sizeof(out)),
	    ZM_ERR_INVALID);
}

static void
test_last_login(void **state)
{
	struct zm_lastlogin	l;
	char			out[512];

	memset(&l, 0, sizeof(l));
	assert_int_equal(zm_message_last_login(&l, out, sizeof(out)), 0);
	assert_string_equal(out, "This is your first login.");
	l.failures = 2;
	assert_int_equal(zm_message_last_login(&l, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "This is your first login. 2 failed attempts before it.");

	l.when = T0;
	l.logout = T0 + 3600;
	l.failures = 3;
	strcpy(l.from, "10.0.0.5");
	assert_int_equal(zm_message_last_login(&l, out, sizeof(out)), 0);
	assert_string_equal(out, "Last login: 2023-11-14 22:13 from 10.0.0.5; "
	    "last logout: 2023-11-14 23:13; 3 failed attempts since.");

	l.logout = 0;
	l.failures = 1;
	l.from[0] = '\0';
	assert_int_equal(zm_message_last_login(&l, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "Last login: 2023-11-14 22:13; 1 failed attempt since.");

	/* A host name cannot drive the terminal. */
	strcpy(l.from, "evil\x1b[2J");
	assert_int_equal(zm_message_last_login(&l, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "from evil?[2J;"));
	assert_null(strchr(out, '\x1b'));

	/* Cut to fit, still a string. */
	assert_int_equal(zm_message_last_login(&l, out, 16), ZM_ERR_TOOBIG);
	assert_int_equal(strlen(out), 15);
}

static void
test_last_login_from_info(void **state)
{
	struct zm_msgargs	a = { 0 };
	char			out[512];

	a.time = T0;
	a.text = "term-0123";
	a.count = 0;
	assert_int_equal(zm_message_format(ZM_MSG_LAST_LOGIN, &a, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "Last login: 2023-11-14 22:13 from "
	    "term-0123; 0 failed attempts since.");
}

static void
test_copy_and_sanitize(void **state)
{
	char	dst[5], s[] = "a\tb\x7f" "c\n";

	/* "日本" is 6 bytes: only whole characters are kept. */
	zm_message_copy(dst, sizeof(dst), "\xe6\x97\xa5\xe6\x9c\xac");
	assert_string_equal(dst, "\xe6\x97\xa5");
	zm_message_copy(dst, sizeof(dst), "abcd");
	assert_string_equal(dst, "abcd");
	zm_message_copy(dst, sizeof(dst), "abcdef");
	assert_string_equal(dst, "abcd");
	zm_message_sanitize(s);
	assert_string_equal(s, "a?b?c?");
}

static void
test_status_and_prompt_defaults(void **state)
{
	assert_int_equal(zm_message_status_default(ZM_ST_LOCKED, T0),
	    ZM_MSG_LOCKED_UNTIL);
	assert_int_equal(zm_message_status_default(ZM_ST_LOCKED, 0),
	    ZM_MSG_LOCKED_HELPDESK);
	assert_int_equal(zm_message_status_default(ZM_ST_NO_TOKEN, 0),
	    ZM_MSG_NO_TOKEN);
	assert_int_equal(zm_message_status_default(ZM_ST_REVOKED, 0),
	    ZM_MSG_TOKEN_REVOKED);
	assert_int_equal(zm_message_status_default(ZM_ST_INTERNAL, 0),
	    ZM_PMSG_UNAVAILABLE);
	/* An unknown refusal is still a refusal, without details. */
	assert_int_equal(zm_message_status_default(ZM_ST__MAX + 7, 0),
	    ZM_MSG_AUTH_FAILED);
	assert_int_equal(zm_message_prompt_default(ZM_PROMPT_OTP),
	    ZM_MSG_ENTER_OTP);
	assert_int_equal(zm_message_prompt_default(ZM_PROMPT_PIN),
	    ZM_MSG_ENTER_PIN);
	assert_int_equal(zm_message_prompt_default(ZM_PROMPT_CARD),
	    ZM_MSG_INSERT_CARD);
	assert_int_equal(zm_message_prompt_default(ZM_PROMPT_TEMPCODE),
	    ZM_MSG_ENTER_TEMPCODE);
	assert_int_equal(zm_message_prompt_default(999), ZM_MSG_ENTER_OTP);
}

static void
test_chunk(void **state)
{
	char	text[64];

	assert_int_equal(zm_message_chunk("short", 10), 5);
	assert_int_equal(zm_message_chunk("", 10), 0);
	/* Too long: up to the last line end that fits, without it. */
	assert_int_equal(zm_message_chunk("aaaa\nbbbb\ncccc", 12), 9);
	/* No line end: between characters ("あ" is 3 bytes), never inside. */
	strcpy(text, "\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82");
	assert_int_equal(zm_message_chunk(text, 7), 6);
	assert_int_equal(zm_message_chunk(text, 5), 3);
	/* A line end at the start alone does not give an empty piece. */
	assert_int_equal(zm_message_chunk("\naaaaaaaa", 4), 4);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* R13: the zone's banner; it must not be a way to reach the terminal. */
static void
test_banner_load(void **state)
{
	char	dir[] = "/tmp/zm-test-banner-XXXXXX", path[128], link[128];
	char	out[ZM_TEST_BANNER + 1], *big;
	size_t	i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/banner", dir);
	snprintf(link, sizeof(link), "%s/link", dir);

	write_file(path, "Hello\n\x1b[2J\tstaff\n\n",
	    strlen("Hello\n\x1b[2J\tstaff\n\n"));
	assert_int_equal(zm_banner_load(path, out, sizeof(out)), 0);
	assert_string_equal(out, "Hello\n?[2J\tstaff");

	/* Symbolic links, directories and FIFOs are refused (no hang). */
	assert_int_equal(symlink(path, link), 0);
	assert_int_not_equal(zm_banner_load(link, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(zm_banner_load(dir, out, sizeof(out)),
	    ZM_ERR_INVALID);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(mkfifo(link, 0600), 0);
	assert_int_equal(zm_banner_load(link, out, sizeof(out)),
	    ZM_ERR_INVALID);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(zm_banner_load(link, out, sizeof(out)),
	    ZM_ERR_NOTFOUND);

	/* Too long: cut, and never in the middle of a character. */
	assert_non_null(big = malloc(3 * ZM_TEST_BANNER));
	for (i = 0; i < ZM_TEST_BANNER; i++)
		memcpy(big + 3 * i, "\xe3\x81\x82", 3);
	write_file(path, big, 3 * ZM_TEST_BANNER);
	free(big);
	assert_int_equal(zm_banner_load(path, out, sizeof(out)),
	    ZM_ERR_TOOBIG);
	assert_int_equal(strlen(out) % 3, 0);
	assert_true(strlen(out) >= ZM_TEST_BANNER - 3);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_daemon_message_has_words),
		cmocka_unit_test(test_unknown_ids_refused),
		cmocka_unit_test(test_wrong_code_tries_left),
		cmocka_unit_test(test_locked_until),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_last_login),
		cmocka_unit_test(test_last_login_from_info),
		cmocka_unit_test(test_copy_and_sanitize),
		cmocka_unit_test(test_status_and_prompt_defaults),
		cmocka_unit_test(test_chunk),
		cmocka_unit_test(test_banner_load),
	};

	/* Fixed times below are written in UTC. */
	if (setenv("TZ", "UTC", 1) != 0)
		return 1;
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
