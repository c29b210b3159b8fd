/* Unit tests of the Monitoring Plugins output layer: ranges, perfdata, sanitizing, the cut. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/nagios.h"
#include "checks/sts_txt.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"

/* ---- ranges: parse, canonical text ---------------------------------------------------- */

struct range_row {
	const char *in;
	bool bare_is_min;
	bool start_inf, end_inf, inside;
	double start, end;
	const char *canon;
};

/* Monitoring Plugins guidelines, "Threshold and ranges"; bare N as check_http -C when asked. */
static const struct range_row range_rows[] = {
	{ "10", false, false, false, false, 0, 10, "0:10" },	/* outside 0..10 */
	{ "10", true, false, true, false, 10, 0, "10:" },	/* fewer than 10 days */
	{ "21", true, false, true, false, 21, 0, "21:" },
	{ "10:", false, false, true, false, 10, 0, "10:" },	/* below 10 */
	{ "10:", true, false, true, false, 10, 0, "10:" },
	{ "~:10", false, true, false, false, 0, 10, "~:10" },	/* above 10 */
	{ "~:10", true, true, false, false, 0, 10, "~:10" },
	{ "10:20", false, false, false, false, 10, 20, "10:20" },	/* outside 10..20 */
	{ "10:20", true, false, false, false, 10, 20, "10:20" },
	{ "@10:20", false, false, false, true, 10, 20, "@10:20" },	/* inside 10..20 */
	{ "@10", true, false, false, true, 0, 10, "@0:10" },	/* '@' keeps 0:N */
	{ "@10:", false, false, true, true, 10, 0, "@10:" },
	{ "@~:0", false, true, false, true, 0, 0, "@~:0" },
	{ "~:", false, true, true, false, 0, 0, "~:" },	/* never alerts */
	{ "0", false, false, false, false, 0, 0, "0:0" },
	{ "0", true, false, true, false, 0, 0, "0:" },	/* alert once expired */
	{ "-1", true, false, true, false, -1, 0, "-1:" },
	{ "-5:5", false, false, false, false, -5, 5, "-5:5" },
	{ "~:-3.25", false, true, false, false, 0, -3.25, "~:-3.25" },
	{ "1.5", true, false, true, false, 1.5, 0, "1.5:" },
	{ ".5:2.", false, false, false, false, 0.5, 2, "0.5:2" },
	{ "+7", true, false, true, false, 7, 0, "7:" },
	{ "007", true, false, true, false, 7, 0, "7:" },
	{ "-0", true, false, true, false, 0, 0, "0:" },	/* no "-0" */
	{ "0.1:0.3", false, false, false, false, 0.1, 0.3, "0.1:0.3" },
	{ "0.000000000000001", false, false, false, false, 0, 1e-15, "0:0.000000000000001" },
	{ "999999999999999", true, false, true, false, 999999999999999.0, 0,
	  "999999999999999:" },
	{ "123456.789", false, false, false, false, 0, 123456.789, "0:123456.789" },
};

static void test_range_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(range_rows); i++) {
		const struct range_row *row = &range_rows[i];
		struct nagios_range r;
		char err[256] = "", canon[NAGIOS_RANGE_STRLEN];

		if (nagios_range_parse(row->in, row->bare_is_min, &r, err, sizeof(err)) != 0)
			fail_msg("row %zu \"%s\": %s", i, row->in, err);
		assert_int_equal(r.start_inf, row->start_inf);
		assert_int_equal(r.end_inf, row->end_inf);
		assert_int_equal(r.inside, row->inside);
		if (!row->start_inf && r.start != row->start)
			fail_msg("row %zu \"%s\": start %.17g", i, row->in, r.start);
		if (!row->end_inf && r.end != row->end)
			fail_msg("row %zu \"%s\": end %.17g", i, row->in, r.end);
		nagios_range_str(&r, canon, sizeof(canon));
		if (strcmp(canon, row->canon) != 0)
			fail_msg("row %zu \"%s\": canonical \"%s\", want \"%s\"", i, row->in, canon,
				 row->canon);
	}
}

/* The canonical text means the same range whether or not it is read with bare_is_min. */
static void test_range_canonical_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(range_rows); i++) {
		struct nagios_range r, a, b;
		char err[256], canon[NAGIOS_RANGE_STRLEN], ca[NAGIOS_RANGE_STRLEN],
			cb[NAGIOS_RANGE_STRLEN];

		assert_int_equal(nagios_range_parse(range_rows[i].in, range_rows[i].bare_is_min,
						    &r, err, sizeof(err)), 0);
		nagios_range_str(&r, canon, sizeof(canon));
		assert_int_equal(nagios_range_parse(canon, false, &a, err, sizeof(err)), 0);
		assert_int_equal(nagios_range_parse(canon, true, &b, err, sizeof(err)), 0);
		nagios_range_str(&a, ca, sizeof(ca));
		nagios_range_str(&b, cb, sizeof(cb));
		assert_string_equal(ca, canon);
		assert_string_equal(cb, canon);
	}
}

struct range_err_row {
	const char *in;
	const char *want;	/* substring of the message */
};

static const struct range_err_row range_err_rows[] = {
	{ "abc", "\"abc\" is not a number or a range (N, N:, ~:N, N:M, @N:M)" },
	{ "", "empty threshold" },
	{ "20:10", "\"20:10\": the start 20 is greater than the end 10" },
	{ "@5:-5", "the start 5 is greater than the end -5" },
	{ "10:20:30", "is not a number or a range" },
	{ ":10", "is not a number or a range" },	/* start must be N or ~ */
	{ "~", "is not a number or a range" },
	{ "~:~", "is not a number or a range" },
	{ "@", "is not a number or a range" },
	{ "@@10", "is not a number or a range" },
	{ ".", "is not a number or a range" },
	{ "-", "is not a number or a range" },
	{ "1..2", "is not a number or a range" },
	{ "1e3", "is not a number or a range" },	/* no exponents */
	{ " 10", "is not a number or a range" },
	{ "10 ", "is not a number or a range" },
	{ "10d", "is not a number or a range" },
	{ "1,5", "is not a number or a range" },	/* '.' only, whatever the locale */
	{ "0x10", "is not a number or a range" },
	{ "nan", "is not a number or a range" },
	{ "inf", "is not a number or a range" },
	{ "1234567890123456", "is not a number or a range" },	/* 16 significant digits */
	{ "0.0000000000000001", "is not a number or a range" },	/* 16 decimals */
	{ "a\nb", "\"a\\nb\" is not" },	/* control bytes shown escaped */
};

static void test_range_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(range_err_rows); i++) {
		struct nagios_range r = { .start = 42 };
		char err[256] = "";

		for (int bare = 0; bare < 2; bare++) {
			err[0] = '\0';
			if (nagios_range_parse(range_err_rows[i].in, bare, &r, err,
					       sizeof(err)) == 0)
				fail_msg("row %zu \"%s\" accepted", i, range_err_rows[i].in);
			if (!strstr(err, range_err_rows[i].want))
				fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err,
					 range_err_rows[i].want);
			assert_true(r.start == 42);	/* untouched on error */
		}
	}
	/* NULL is an empty threshold too. */
	{
		struct nagios_range r;
		char err[256];

		assert_int_equal(nagios_range_parse(NULL, true, &r, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "empty"));
	}
}

struct alert_row {
	const char *range;
	bool bare_is_min;
	double v;
	bool alert;
};

/* Edges are inclusive: a value equal to a bound is inside the range. */
static const struct alert_row alert_rows[] = {
	{ "21", true, 22, false },
	{ "21", true, 21, false },	/* 21 days left: not "fewer than 21" */
	{ "21", true, 20.999, true },
	{ "21", true, 20, true },
	{ "21", true, -3, true },	/* expired */
	{ "7", true, 7, false },
	{ "7", true, 6, true },
	{ "0", true, 0, false },
	{ "0", true, -0.5, true },
	{ "10", false, 0, false },
	{ "10", false, 10, false },
	{ "10", false, 10.001, true },
	{ "10", false, -0.001, true },
	{ "10:", false, 10, false },
	{ "10:", false, 9.99, true },
	{ "10:", false, 1e12, false },
	{ "~:10", false, -1e12, false },
	{ "~:10", false, 10, false },
	{ "~:10", false, 10.5, true },
	{ "10:20", false, 9, true },
	{ "10:20", false, 10, false },
	{ "10:20", false, 20, false },
	{ "10:20", false, 21, true },
	{ "@10:20", false, 9, false },
	{ "@10:20", false, 10, true },
	{ "@10:20", false, 15, true },
	{ "@10:20", false, 20, true },
	{ "@10:20", false, 20.5, false },
	{ "@~:0", false, 0, true },
	{ "@~:0", false, 1, false },
	{ "~:", false, -1e300, false },
	{ "~:", false, 1e300, false },
	{ "-5:5", false, -5, false },
	{ "-5:5", false, -5.5, true },
	{ "21", true, NAN, true },	/* no value: alert */
};

static void test_range_alert(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(alert_rows); i++) {
		const struct alert_row *row = &alert_rows[i];
		struct nagios_range r;
		char err[256];

		assert_int_equal(nagios_range_parse(row->range, row->bare_is_min, &r, err,
						    sizeof(err)), 0);
		if (nagios_range_alert(&r, row->v) != row->alert)
			fail_msg("row %zu: %s with %g should%s alert", i, row->range, row->v,
				 row->alert ? "" : " not");
	}
}

/* ---- perfdata ------------------------------------------------------------------------- */

static struct nagios_range r_21, r_7, r_in;

static int setup_ranges(void **state)
{
	char err[256];

	(void)state;
	if (nagios_range_parse("21", true, &r_21, err, sizeof(err)) ||
	    nagios_range_parse("7", true, &r_7, err, sizeof(err)) ||
	    nagios_range_parse("@10:20", false, &r_in, err, sizeof(err)))
		return -1;
	return 0;
}

struct perf_row {
	struct nagios_perf p;
	const char *want;
};

static void test_perf_items(void **state)
{
	const struct perf_row rows[] = {
		{ { .label = "days", .value = 42 }, "days=42" },
		{ { .label = "days", .value = 42, .warn = &r_21, .crit = &r_7 },
		  "days=42;21:;7:" },
		{ { .label = "days", .value = 42, .crit = &r_7 }, "days=42;;7:" },
		{ { .label = "days", .value = 42, .warn = &r_21 }, "days=42;21:" },
		{ { .label = "days", .value = -3, .warn = &r_21, .crit = &r_7, .has_min = true,
		    .min = 0 },
		  "days=-3;21:;7:;0" },
		{ { .label = "time", .value = 0.1234, .uom = "s", .has_min = true, .min = 0,
		    .has_max = true, .max = 60 },
		  "time=0.1234s;;;0;60" },
		{ { .label = "load", .value = 1.5, .has_max = true, .max = 100 }, "load=1.5;;;;100" },
		{ { .label = "pct", .value = 99.5, .uom = "%", .warn = &r_in },
		  "pct=99.5%;@10:20" },
		{ { .label = "size", .value = 65536, .uom = "B" }, "size=65536B" },
		{ { .label = "size", .value = 64, .uom = "KB" }, "size=64KB" },
		{ { .label = "n", .value = 7, .uom = "c" }, "n=7c" },
		{ { .label = "n", .value = 7, .uom = "" }, "n=7" },
		{ { .label = "rtt", .value = 12, .uom = "ms" }, "rtt=12ms" },
		{ { .label = "rtt", .value = 12, .uom = "us" }, "rtt=12us" },
		{ { .label = "big", .value = 1e15 }, "big=1000000000000000" },
		{ { .label = "neg0", .value = -0.0 }, "neg0=0" },
		{ { .label = "tiny", .value = 0.000001 }, "tiny=0.000001" },
		{ { .label = "third", .value = 1.0 / 3 }, "third=0.333333333333333" },
		{ { .label = "unknown", .value = NAN, .uom = "s" }, "unknown=U" },
		{ { .label = "inf", .value = INFINITY, .warn = &r_21 }, "inf=U;21:" },
		{ { .label = "nanmax", .value = 1, .has_max = true, .max = NAN }, "nanmax=1" },
		/* labels: quoted only when needed */
		{ { .label = "mx1.example.org_cert_days", .value = 12 },
		  "mx1.example.org_cert_days=12" },
		{ { .label = "mx1.example.org[192.0.2.25]", .value = 1 },
		  "mx1.example.org[192.0.2.25]=1" },
		{ { .label = "cert days", .value = 1 }, "'cert days'=1" },
		{ { .label = "a=b", .value = 1 }, "'a=b'=1" },
		{ { .label = "it's", .value = 1 }, "'it''s'=1" },
		{ { .label = "''", .value = 1 }, "''''''=1" },
		{ { .label = "a|b", .value = 1 }, "a_b=1" },
		{ { .label = "a\nb c", .value = 1 }, "'a_b c'=1" },
		{ { .label = "tab\there", .value = 1 }, "tab_here=1" },
		{ { .label = "dé", .value = 1 }, "dé=1" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct dynbuf sb;

		dynbuf_init(&sb, 0);
		if (nagios_perf_append(&sb, &rows[i].p) != 0)
			fail_msg("row %zu (%s) refused", i, rows[i].want);
		if (strcmp(sb.buf, rows[i].want) != 0)
			fail_msg("row %zu: \"%s\", want \"%s\"", i, sb.buf, rows[i].want);
		dynbuf_free(&sb);
	}
}

static void test_perf_join_and_refuse(void **state)
{
	const struct nagios_perf a = { .label = "a", .value = 1 };
	const struct nagios_perf b = { .label = "b c", .value = 2, .uom = "s" };
	const char *bad_uoms[] = { "d", "days", "GB", "S", "%%", " ", "ms ", "sec" };
	struct dynbuf sb;

	(void)state;
	dynbuf_init(&sb, 0);
	assert_int_equal(nagios_perf_append(&sb, &a), 0);
	assert_int_equal(nagios_perf_append(&sb, &b), 0);
	assert_int_equal(nagios_perf_append(&sb, &a), 0);
	assert_string_equal(sb.buf, "a=1 'b c'=2s a=1");

	for (size_t i = 0; i < ARRAY_LEN(bad_uoms); i++) {
		struct nagios_perf p = { .label = "x", .value = 1, .uom = bad_uoms[i] };

		if (nagios_perf_append(&sb, &p) != -1)
			fail_msg("UOM \"%s\" accepted", bad_uoms[i]);
	}
	{
		struct nagios_perf p = { .label = "", .value = 1 };

		assert_int_equal(nagios_perf_append(&sb, &p), -1);
		p.label = NULL;
		assert_int_equal(nagios_perf_append(&sb, &p), -1);
	}
	assert_string_equal(sb.buf, "a=1 'b c'=2s a=1");	/* refusals leave it alone */
	dynbuf_free(&sb);

	/* A full buffer refuses the item whole: no half item is left behind. */
	dynbuf_init(&sb, 10);
	assert_int_equal(nagios_perf_append(&sb, &a), 0);	/* "a=1" */
	assert_int_equal(nagios_perf_append(&sb, &a), 0);	/* "a=1 a=1" */
	assert_int_equal(nagios_perf_append(&sb, &b), -1);
	assert_true(sb.toobig);
	assert_string_equal(sb.buf, "a=1 a=1");
	assert_int_equal(sb.len, 7);
	dynbuf_free(&sb);
}

/* Numbers are written with '.' whatever LC_NUMERIC says (LOCPATH may point at a de_DE). */
static void test_perf_locale(void **state)
{
	static const char *const locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
					       "de_DE", "fr_FR" };
	locale_t loc = (locale_t)0;
	struct nagios_range r;
	char err[256], canon[NAGIOS_RANGE_STRLEN];
	struct dynbuf sb;
	struct nagios_perf p = { .label = "t", .value = 1.25, .uom = "s", .has_max = true,
				 .max = 2.5 };
	bool comma;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(locales) && !loc; i++)
		loc = newlocale(LC_NUMERIC_MASK, locales[i], (locale_t)0);
	if (!loc)
		skip();	/* no comma locale installed */
	uselocale(loc);
	comma = strcmp(localeconv()->decimal_point, ".") != 0;
	assert_int_equal(nagios_range_parse("1.5:2.75", false, &r, err, sizeof(err)), 0);
	nagios_range_str(&r, canon, sizeof(canon));
	dynbuf_init(&sb, 0);
	assert_int_equal(nagios_perf_append(&sb, &p), 0);
	uselocale(LC_GLOBAL_LOCALE);
	freelocale(loc);
	assert_true(comma);
	assert_true(r.start == 1.5 && r.end == 2.75);
	assert_string_equal(canon, "1.5:2.75");
	assert_string_equal(sb.buf, "t=1.25s;;;;2.5");
	dynbuf_free(&sb);
}

/* ---- sanitizing ----------------------------------------------------------------------- */

struct san_row {
	const char *in, *want;
};

static const struct san_row san_rows[] = {
	{ "plain text 1.2.3", "plain text 1.2.3" },
	{ "a|b", "a/b" },
	{ "<html>", "(html)" },
	{ "~user", "-user" },
	{ "a & b", "a + b" },
	{ "it's \"quoted\" `x`", "its quoted x" },
	{ "$HOSTNAME$", "HOSTNAME" },
	{ "tab\there\rcr", "tab here cr" },
	{ "bell\a del\x7f", "bell  del " },
	{ "line1\nline2", "line1\nline2" },	/* long text keeps its lines */
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7" },
	{ "bad \xff byte", "bad ? byte" },
	{ "lone \x80 cont", "lone ? cont" },
	{ "cut \xc3", "cut ?" },	/* truncated sequence at the end */
	{ "cut \xe2\x82 x", "cut ?? x" },
	{ "overlong \xc0\xaf", "overlong ??" },
	{ "overlong3 \xe0\x80\xaf", "overlong3 ???" },
	{ "surrogate \xed\xa0\x80", "surrogate ???" },
	{ "too big \xf4\x90\x80\x80", "too big ????" },
	{ "", "" },
	{ "`~$&|'\"<>", "-+/()" },
};

static void test_sanitize(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(san_rows); i++) {
		char buf[128];

		snprintf(buf, sizeof(buf), "%s", san_rows[i].in);
		nagios_sanitize(buf);
		if (strcmp(buf, san_rows[i].want) != 0)
			fail_msg("row %zu: \"%s\", want \"%s\"", i, buf, san_rows[i].want);
	}
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;

		if (n == 0)
			return false;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

/* Whatever the bytes, the result has no illegal_macro_output_chars and is UTF-8. */
static void test_sanitize_random(void **state)
{
	unsigned int seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		char buf[64];
		size_t n = (size_t)(round % 63);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (char)(((seed >> 16) & 0xff) ? (seed >> 16) & 0xff : 'x');
		}
		buf[n] = '\0';
		nagios_sanitize(buf);
		assert_null(strpbrk(buf, "`~$&|'\"<>\r\t"));
		for (const char *c = buf; *c; c++)
			assert_true((unsigned char)*c >= 0x20 || *c == '\n');
		assert_true(utf8_valid(buf));
	}
}

/* ---- render and the 8 KiB cut --------------------------------------------------------- */

struct render_row {
	const char *first, *perf, *lng;
	size_t max;
	const char *want;
};

static const struct render_row render_rows[] = {
	{ "MTA-STS OK - example.org", "days=42;21:;7:", NULL, 8192,
	  "MTA-STS OK - example.org | days=42;21:;7:" },
	{ "MTA-STS OK - example.org", "", NULL, 8192, "MTA-STS OK - example.org" },
	{ "MTA-STS OK - example.org", NULL, "", 8192, "MTA-STS OK - example.org" },
	{ "MTA-STS OK", "a=1", "l1\nl2", 8192, "MTA-STS OK | a=1\nl1\nl2" },
	{ "MTA-STS OK", "a=1", "l1\nl2\n", 8192, "MTA-STS OK | a=1\nl1\nl2" },
	{ "MTA-STS OK", NULL, "l1", 8192, "MTA-STS OK\nl1" },
	{ "MTA-STS OK", "  a=1   b=2  ", NULL, 8192, "MTA-STS OK | a=1 b=2" },
	/* last guards: one first line, no '|' outside the perfdata */
	{ "two\nlines", NULL, NULL, 8192, "two lines" },
	{ "a|b", "x=1", "c|d", 8192, "a/b | x=1\nc/d" },
	/* exact fit: strlen == max - 1 */
	{ "12345", "a=1", "l1", 15, "12345 | a=1\nl1" },
	{ "12345", "a=1", "l1", 14, "12345 | a=1" },	/* no room for the marker */
	/* cut long text at line boundaries, count what went */
	{ "OK", NULL, "l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9", 33,
	  "OK\nl0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9" },	/* 32 bytes: fits */
	{ "OK", NULL, "l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9", 32,
	  "OK\nl0\nl1\n... (8 more lines cut)" },
	{ "OK", NULL, "l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9", 30,
	  "OK\nl0\n... (9 more lines cut)" },
	{ "OK", NULL, "l1\nl2\nl3\nl4", 30, "OK\nl1\nl2\nl3\nl4" },
	{ "OK", NULL, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nb", 30,
	  "OK\n... (2 more lines cut)" },
	{ "OK", NULL, "l1\nl2\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 31,
	  "OK\nl1\nl2\n... (1 more line cut)" },
	/* first line + perfdata too long: whole items go from the end */
	{ "OK", "a=1 b=2 c=3", "x", 13, "OK | a=1 b=2" },
	{ "OK", "a=1 'b c'=2 d=4", NULL, 17, "OK | a=1 'b c'=2" },
	{ "OK", "a=1 'b c'=2 d=4", NULL, 16, "OK | a=1" },
	{ "OK", "'it''s x'=1 y=2", NULL, 17, "OK | 'it''s x'=1" },
	{ "OK", "a=1", NULL, 8, "OK" },
	/* then the first line itself */
	{ "MTA-STS CRITICAL - everything", "a=1", "x", 11, "MTA-STS..." },
	{ "abcdef", NULL, NULL, 3, "ab" },
	{ "abcdef", NULL, NULL, 1, "" },
	{ "abcdef", NULL, NULL, 0, "" },
	/* never inside a UTF-8 sequence: "é" is 2 bytes, "€" 3 */
	{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, NULL, 8, "\xc3\xa9\xc3\xa9..." },
	{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, NULL, 7, "\xc3\xa9..." },
	{ "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", NULL, NULL, 8, "\xe2\x82\xac..." },
	{ "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", NULL, NULL, 10,
	  "\xe2\x82\xac\xe2\x82\xac..." },
	/* perfdata cut: the long text goes, its marker stays when it fits */
	{ "OK", "a=1 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=2", "l1\nl2", 32,
	  "OK | a=1\n... (2 more lines cut)" },
};

static void test_render_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(render_rows); i++) {
		const struct render_row *row = &render_rows[i];
		char *out = nagios_render(row->first, row->perf, row->lng, row->max);

		if (strcmp(out, row->want) != 0)
			fail_msg("row %zu: \"%s\", want \"%s\"", i, out, row->want);
		if (row->max)
			assert_true(strlen(out) + 1 <= row->max);
		free(out);
	}
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* A thousand findings in the long text: the result stays within 8 KiB, head intact. */
static void test_render_8k(void **state)
{
	const char *first = "MTA-STS CRITICAL - example.org: 3 MX hosts fail, policy expires";
	const char *perf = "days=-2;21:;7: mx_valid=0;;;0;3 policy_time=0.231s;;;0";
	const size_t total = 1000;
	struct dynbuf lng;
	char *out, *nl, *marker;
	size_t kept, cut;

	(void)state;
	dynbuf_init(&lng, 0);
	for (size_t i = 0; i < total; i++)
		dynbuf_printf(&lng, "%sCRITICAL mx.cert.expired mx%zu.example.org: cert expired", i ? "\n" : "", i);
	out = nagios_render(first, perf, lng.buf, NAGIOS_OUTPUT_MAX);
	assert_true(strlen(out) + 1 <= NAGIOS_OUTPUT_MAX);
	assert_true(strlen(out) + 1 > NAGIOS_OUTPUT_MAX - 120);	/* it used the room */
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_int_equal((size_t)(nl - out), strlen(first) + 3 + strlen(perf));
	assert_memory_equal(out, first, strlen(first));
	assert_memory_equal(out + strlen(first), " | ", 3);
	assert_memory_equal(out + strlen(first) + 3, perf, strlen(perf));
	marker = strrchr(out, '\n') + 1;
	assert_int_equal(sscanf(marker, "... (%zu more lines cut)", &cut), 1);
	kept = count_char(out, '\n') - 1;	/* lines between the head and the marker */
	assert_int_equal(kept + cut, total);
	assert_true(cut > 0 && kept > 0);
	/* the last kept line is whole */
	{
		char want[80];

		snprintf(want, sizeof(want), "mx%zu.example.org: cert expired\n... (", kept - 1);
		assert_non_null(strstr(out, want));
	}
	free(out);
	dynbuf_free(&lng);
}

/* Perfdata alone past 8 KiB: whole items are dropped, the first line stays. */
static void test_render_8k_perf(void **state)
{
	const char *first = "MTA-STS OK - big.example";
	struct dynbuf perf;
	char *out, *p, *pe;
	size_t items;

	(void)state;
	dynbuf_init(&perf, 0);
	for (size_t i = 0; i < 600; i++) {
		char label[64];
		struct nagios_perf it = { .label = label, .value = (double)i, .uom = "s" };

		snprintf(label, sizeof(label), i % 2 ? "mx%zu example" : "mx%zu.example", i);
		assert_int_equal(nagios_perf_append(&perf, &it), 0);
	}
	assert_true(perf.len > NAGIOS_OUTPUT_MAX);
	out = nagios_render(first, perf.buf, "long\ntext", NAGIOS_OUTPUT_MAX);
	assert_true(strlen(out) + 1 <= NAGIOS_OUTPUT_MAX);
	assert_memory_equal(out, first, strlen(first));
	assert_null(strstr(out, "long"));	/* perfdata was cut: no long text */
	p = out + strlen(first) + 3;
	pe = strchr(p, '\n');
	if (pe)
		assert_string_equal(pe, "\n... (2 more lines cut)");
	else
		pe = p + strlen(p);
	/* the kept perfdata is exactly a prefix of whole items */
	assert_memory_equal(p, perf.buf, (size_t)(pe - p));
	assert_true(perf.buf[pe - p] == ' ');
	items = 0;
	for (const char *c = p; c < pe; c++)
		items += *c == '=';
	assert_true(items > 100 && items < 600);
	free(out);
	dynbuf_free(&perf);
}

/* A first line past 8 KiB of 2- and 3-byte characters is cut on a character boundary. */
static void test_render_8k_utf8(void **state)
{
	struct dynbuf first;
	char *out;

	(void)state;
	for (int shift = 0; shift < 3; shift++) {
		dynbuf_init(&first, 0);
		for (int i = 0; i < shift; i++)
			dynbuf_append(&first, "x", 1);
		for (int i = 0; i < 4000; i++)
			dynbuf_append(&first, i % 2 ? "\xc3\xa9" : "\xe2\x82\xac", i % 2 ? 2 : 3);
		out = nagios_render(first.buf, "a=1", "more", NAGIOS_OUTPUT_MAX);
		if (strlen(out) + 1 > NAGIOS_OUTPUT_MAX || strlen(out) + 1 < NAGIOS_OUTPUT_MAX - 3)
			fail_msg("shift %d: %zu bytes", shift, strlen(out));
		assert_true(utf8_valid(out));
		assert_string_equal(out + strlen(out) - 3, "...");
		assert_null(strchr(out, '|'));
		free(out);
		dynbuf_free(&first);
	}
}

/* ---- the first line -------------------------------------------------------------------- */

/*
 * The first line names the top finding as "code subject: what (evidence)". A quoted record
 * with ';' in it is whole: cutting the message at its first ';' showed "TXT record
 * \"v=STSv1" and lost what is wrong. Nagios' illegal characters (the quotes) are removed.
 */
static void test_first_line_quoted_record(void **state)
{
	static const char rec[] = "v=STSv1; id=bad id!";
	struct findings fs;
	struct sts_txt st;
	char *line;

	(void)state;
	findings_init(&fs);
	assert_int_equal(sts_txt_parse(rec, strlen(rec), &st, &fs, "_mta-sts.example.org"), -1);
	line = nagios_first_line("example.org", STATUS_CRITICAL, &fs, NULL);
	assert_string_equal(line, "MTA-STS CRITICAL - example.org: sts.txt.invalid "
			    "_mta-sts.example.org: id bad id! contains a space at position 4 (TXT "
			    "record v=STSv1; id=bad id!; RFC 8461 3.1 allows only letters and "
			    "digits, 1*32(ALPHA / DIGIT))");
	assert_true(strlen(line) <= NAGIOS_FIRST_LINE_MAX);
	free(line);
	findings_free(&fs);
}

/* Too long: the headline is cut with "...", the count of the others stays; INFO is no count. */
static void test_first_line_cut(void **state)
{
	struct findings fs;
	struct finding_occurrence *fo;
	char *line;

	(void)state;
	findings_init(&fs);
	fo = findings_add(&fs, F_MX_CONNECT, SEV_CRITICAL, "mx1.example.org[192.0.2.1]");
	finding_set_what(fo, "SMTP on port 25 failed at banner");
	finding_set_evidence(fo, "%0300d", 7);
	finding_set_consequence(fo, "never in the first line");
	finding_set_what(findings_add(&fs, F_MX_CONNECT, SEV_WARNING, "mx2.example.org[192.0.2.2]"),
			 "other");
	finding_set_what(findings_add(&fs, F_MX_CHANGED, SEV_INFO, "example.org"), "a note");
	line = nagios_first_line("example.org", STATUS_CRITICAL, &fs, "unused");
	assert_int_equal(strlen(line), NAGIOS_FIRST_LINE_MAX);
	assert_non_null(strstr(line, "mx.connect mx1.example.org[192.0.2.1]: SMTP on port 25 "
			       "failed at banner (0000"));
	assert_non_null(strstr(line, "000... (+1 more)"));
	assert_null(strstr(line, "never"));
	free(line);
	findings_free(&fs);

	/* no problem: the summary */
	findings_init(&fs);
	finding_set_what(findings_add(&fs, F_MX_CHANGED, SEV_INFO, "example.org"), "a note");
	line = nagios_first_line("example.org", STATUS_OK, &fs, "enforce, 2 of 2 MX hosts valid");
	assert_string_equal(line, "MTA-STS OK - example.org: enforce, 2 of 2 MX hosts valid");
	free(line);
	findings_free(&fs);
}

/* ---- exit codes ----------------------------------------------------------------------- */

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(nagios_exit_code(STATUS_OK), 0);
	assert_int_equal(nagios_exit_code(STATUS_WARNING), 1);
	assert_int_equal(nagios_exit_code(STATUS_CRITICAL), 2);
	assert_int_equal(nagios_exit_code(STATUS_UNKNOWN), 3);
	assert_int_equal(nagios_exit_code((enum status)42), 3);
	assert_int_equal(nagios_exit_code(findings_status(&(struct findings){ 0 })), 0);
}

/* issue 11: "16 of 16 MX hosts valid" when 200 exist and 184 were never probed. */
static void test_mx_summary(void **state)
{
	struct dynbuf sb;

	(void)state;
	dynbuf_init(&sb, 0);
	nagios_mx_summary(&sb, 16, 200, 16);
	assert_string_equal(sb.buf, "16 of 200 MX hosts valid (16 probed)");
	dynbuf_reset(&sb);
	nagios_mx_summary(&sb, 2, 2, 2);
	assert_string_equal(sb.buf, "2 of 2 MX hosts valid");
	dynbuf_reset(&sb);
	nagios_mx_summary(&sb, 1, 0, 3);	/* no total known: the probed ones */
	assert_string_equal(sb.buf, "1 of 3 MX hosts valid");
	dynbuf_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_parse),
		cmocka_unit_test(test_range_canonical_roundtrip),
		cmocka_unit_test(test_range_errors),
		cmocka_unit_test(test_range_alert),
		cmocka_unit_test_setup(test_perf_items, setup_ranges),
		cmocka_unit_test(test_perf_join_and_refuse),
		cmocka_unit_test(test_perf_locale),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_random),
		cmocka_unit_test(test_render_table),
		cmocka_unit_test(test_render_8k),
		cmocka_unit_test(test_render_8k_perf),
		cmocka_unit_test(test_render_8k_utf8),
		cmocka_unit_test(test_first_line_quoted_record),
		cmocka_unit_test(test_first_line_cut),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_mx_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
