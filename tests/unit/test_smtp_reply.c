/* Unit tests of the SMTP reply parser used by the STARTTLS probe (checks/smtp_reply.c) (RFC 5321 4.2, RFC 3207). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "checks/smtp_reply.h"

struct row {
	const char *what;
	const char *input;
	int rc;			/* 1 complete, 0 needs more, -1 protocol error */
	int code;
	bool starttls;
	const char *first;	/* first line's text, or a substring of the error */
};

static const struct row rows[] = {
	{ "RFC 5321 4.2: one-line greeting", "220 mx.example.org ESMTP\r\n", 1, 220, false,
	  "mx.example.org ESMTP" },
	{ "RFC 5321 4.2: multi-line reply ends at 'code SP'",
	  "250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n", 1, 250, true,
	  "mx.example.org" },
	{ "RFC 3207: STARTTLS keyword is case-insensitive", "250-mx\r\n250 starttls\r\n", 1, 250,
	  true, "mx" },
	{ "RFC 3207: STARTTLS must be the keyword, not a prefix", "250-mx\r\n250 STARTTLSX\r\n", 1,
	  250, false, "mx" },
	{ "no STARTTLS offered", "250-mx\r\n250-SIZE 1000\r\n250 8BITMIME\r\n", 1, 250, false, "mx" },
	{ "incomplete multi-line reply waits", "250-mx\r\n250-SIZE\r\n", 0, 0, false, NULL },
	{ "incomplete line waits", "220 mx.exa", 0, 0, false, NULL },
	{ "bare LF line ends are tolerated", "220 hello\n", 1, 220, false, "hello" },
	{ "RFC 5321 4.2: a bare code is a complete reply", "220\r\n", 1, 220, false, "" },
	{ "a rejecting greeting is still a reply", "554 go away\r\n", 1, 554, false, "go away" },
	{ "not SMTP: an HTTP server on port 25", "HTTP/1.1 400 Bad Request\r\n", -1, 0, false,
	  "not an SMTP reply" },
	{ "RFC 5321 4.2: codes must agree across lines", "250-a\r\n251 b\r\n", -1, 0, false,
	  "changes code" },
	{ "bad separator after the code", "250*x\r\n", -1, 0, false, "not ' ' or '-'" },
	{ "control bytes in the text are made printable", "220 a\x01" "b\r\n", 1, 220, false,
	  "a\\x01b" },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct smtp_reply r;
		char msg[160] = "";
		int rc = smtp_reply_parse(rows[i].input, strlen(rows[i].input), &r, msg, sizeof(msg));

		if (rc != rows[i].rc)
			fail_msg("%s: rc %d, want %d (%s)", rows[i].what, rc, rows[i].rc, msg);
		if (rc == 1) {
			assert_int_equal(r.code, rows[i].code);
			assert_int_equal(r.starttls, rows[i].starttls);
			assert_string_equal(r.first, rows[i].first);
			assert_int_equal(r.used, strlen(rows[i].input));
		}
		if (rc < 0 && !strstr(msg, rows[i].first))
			fail_msg("%s: message \"%s\" lacks \"%s\"", rows[i].what, msg, rows[i].first);
	}
}

/* Hostile input: an endless line or an endless reply is refused with a clear reason. */
static void test_limits(void **state)
{
	static char buf[SMTP_REPLY_MAX + 64];
	struct smtp_reply r;
	char msg[160];
	size_t n = 0;

	(void)state;
	memset(buf, 'a', SMTP_LINE_MAX + 10);
	memcpy(buf, "220 ", 4);
	assert_int_equal(smtp_reply_parse(buf, SMTP_LINE_MAX + 10, &r, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "longer than"));

	while (n + 8 < sizeof(buf) && n < (SMTP_REPLY_LINES + 5) * 7) {
		memcpy(buf + n, "250-xx\n", 7);
		n += 7;
	}
	assert_int_equal(smtp_reply_parse(buf, n, &r, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "lines"));
}

/* The bytes after a complete reply are not part of it (STARTTLS injection check). */
static void test_used(void **state)
{
	const char *in = "220 ready\r\nEVIL";
	struct smtp_reply r;
	char msg[64];

	(void)state;
	assert_int_equal(smtp_reply_parse(in, strlen(in), &r, msg, sizeof(msg)), 1);
	assert_int_equal(r.used, strlen("220 ready\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_used),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
