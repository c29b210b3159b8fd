/* Unit tests of MX pattern validity and matching: one row per rule of RFC 8461 3.2 and 4.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/mx_match.h"
#include "lib/defs.h"

enum kind {
	K_VALID,	/* mx_pattern_valid(pattern) */
	K_MATCH,	/* mx_pattern_match(pattern, host) */
	K_ANY,		/* mx_match_any(patterns, host) */
};

struct row {
	const char *name;
	enum kind kind;
	const char *pattern;
	const char *host;
	bool expect;		/* valid / matches */
	const char *why;	/* substring of the explanation when false ("" when true) */
	const char *patterns[4];	/* K_ANY; n_patterns of them, may hold NULL */
	size_t n_patterns;
	int index;		/* K_ANY: expected index */
};

static char label64[80], name254[300], name253[300], label63[80];

#define VALID(n, p) { .name = n, .kind = K_VALID, .pattern = p, .expect = true, .why = "" }
#define INVALID(n, p, w) { .name = n, .kind = K_VALID, .pattern = p, .why = w }
#define MATCH(n, p, h) { .name = n, .kind = K_MATCH, .pattern = p, .host = h, .expect = true, \
			 .why = "" }
#define NOMATCH(n, p, h, w) { .name = n, .kind = K_MATCH, .pattern = p, .host = h, .why = w }
#define ANY(n, h, i, np, ...) { .name = n, .kind = K_ANY, .host = h, .index = i, \
				.n_patterns = np, .patterns = { __VA_ARGS__ } }

static const struct row rows[] = {
	/* RFC 8461 3.2: mx = ["*."] Domain; a host name is a pattern */
	VALID("valid_plain", "mx.example.com"),
	/* RFC 8461 3.2: "*." then a Domain */
	VALID("valid_wildcard", "*.example.com"),
	/* RFC 5321 Domain: letters of either case */
	VALID("valid_mixed_case", "MX.Example.COM"),
	/* RFC 8461 4.1: a trailing dot is ignored (RFC 5321 Domain has none: policy warns) */
	VALID("valid_trailing_dot", "mx.example.com."),
	/* RFC 5321 Domain: a single label is a Domain */
	VALID("valid_single_label", "localhost"),
	/* RFC 5321 sub-domain = Let-dig [Ldh-str]: digits and inner hyphens */
	VALID("valid_ldh", "mx-1.0example.com"),
	/* RFC 5890: IDNs are written as A-labels */
	VALID("valid_a_label", "xn--mnchen-3ya.example"),
	/* RFC 1035 2.3.4: 63 characters per label */
	VALID("valid_label_63", label63),
	/* RFC 1035 2.3.4: 253 characters per name (text form) */
	VALID("valid_name_253", name253),
	/* RFC 8461 3.2: a wildcard is only the whole leftmost label */
	INVALID("partial_wildcard", "*example.com",
		"a wildcard must be the whole leftmost label ('*.' prefix)"),
	/* RFC 8461 3.2: "*." needs a Domain after it */
	INVALID("wildcard_dot_only", "*.", "'*.' must be followed by a domain"),
	/* RFC 8461 3.2: a bare "*" is no pattern */
	INVALID("bare_star", "*", "a lone '*' is not a pattern"),
	/* RFC 8461 3.2: '*' is not allowed inside the Domain */
	INVALID("star_inner_label", "mx.*.example.com",
		"'*' is allowed only as the whole leftmost label"),
	/* RFC 8461 3.2: '*' is not allowed inside a label */
	INVALID("star_in_label", "mx*.example.com", "'*' is allowed only as the whole"),
	/* RFC 8461 3.2: one wildcard label only */
	INVALID("double_wildcard", "*.*.example.com", "'*' is allowed only as the whole"),
	/* RFC 8461 3.2: an empty pattern is no Domain */
	INVALID("empty", "", "the pattern is empty"),
	/* RFC 8461 3.2: a dot alone is no Domain */
	INVALID("dot_only", ".", "the pattern is only a dot"),
	/* RFC 5321 Domain: no empty label */
	INVALID("empty_label", "mx..example.com", "empty label"),
	/* RFC 5321 Domain: no leading dot */
	INVALID("leading_dot", ".example.com", "empty label"),
	/* RFC 5321 Domain: one trailing dot at most (the second makes an empty label) */
	INVALID("two_trailing_dots", "mx.example.com..", "empty label"),
	/* RFC 5321 Domain: LDH only, no '_' */
	INVALID("underscore", "mx_1.example.com",
		"character '_' is not a letter, digit or '-'"),
	/* RFC 5321 Domain: no space */
	INVALID("space", "mx1.example.com mx2.example.com",
		"character ' ' is not a letter"),
	/* RFC 5321 sub-domain starts with Let-dig */
	INVALID("leading_hyphen", "-mx.example.com",
		"label \"-mx\" starts or ends with '-'"),
	/* RFC 5321 sub-domain ends with Let-dig */
	INVALID("trailing_hyphen", "mx-.example.com",
		"label \"mx-\" starts or ends with '-'"),
	/* RFC 5321 Domain is no address literal */
	INVALID("address_literal", "[192.0.2.1]", "character '[' is not a letter"),
	/* RFC 5890: UTF-8 is not LDH; use the A-label */
	INVALID("utf8", "m\xc3\xbcnchen.example", "non-ASCII byte 0xc3; write internationalized "
		"names as A-labels"),
	/* RFC 1035 2.3.4: a label holds at most 63 characters */
	INVALID("label_64", label64, "has 64 characters; a label holds at most 63"),
	/* RFC 1035 2.3.4: a name holds at most 253 characters as text */
	INVALID("name_254", name254, "the name has 254 characters; a DNS name holds at most 253"),

	/* RFC 8461 4.1: exact names match */
	MATCH("match_exact", "mx.example.com", "mx.example.com"),
	/* RFC 8461 4.1: case-insensitive */
	MATCH("match_case", "MX.EXAMPLE.com", "mx.example.COM"),
	/* RFC 8461 4.1: a trailing dot on the pattern is ignored */
	MATCH("match_pattern_dot", "mx.example.com.", "mx.example.com"),
	/* RFC 8461 4.1: a trailing dot on the host is ignored */
	MATCH("match_host_dot", "mx.example.com", "mx.example.com."),
	/* RFC 8461 4.1: "*.example.com" matches "mail.example.com" */
	MATCH("match_wildcard", "*.example.com", "mail.example.com"),
	/* RFC 8461 4.1: wildcard, case and trailing dots together */
	MATCH("match_wildcard_case_dots", "*.Example.com.", "MX1.example.COM."),
	/* RFC 8461 4.1: the wildcard does not match the parent name itself */
	NOMATCH("wildcard_parent", "*.mail.example.com", "mail.example.com",
		"wildcard needs one label before mail.example.com; mx mail.example.com has none"),
	/* RFC 8461 4.1: the wildcard covers one label, not two (the wording) */
	NOMATCH("wildcard_two_labels", "*.mail.example", "a.b.mail.example",
		"wildcard covers exactly one label; mx a.b.mail.example has two"),
	/* RFC 8461 4.1: nor three */
	NOMATCH("wildcard_three_labels", "*.example.com", "a.b.c.example.com",
		"wildcard covers exactly one label; mx a.b.c.example.com has three"),
	/* RFC 8461 4.1: different names do not match */
	NOMATCH("different_name", "mx1.example.org", "mx2.example.org",
		"different name: pattern mx1.example.org, mx mx2.example.org"),
	/* RFC 8461 4.1: a plain pattern does not cover names below it */
	NOMATCH("plain_below", "example.com", "mx.example.com",
		"pattern example.com names only that host, mx mx.example.com is below it"),
	/* RFC 8461 4.1: a wildcard only covers its own domain */
	NOMATCH("wildcard_other_domain", "*.example.com", "mx.example.org",
		"different name: pattern *.example.com covers only names directly under "
		"example.com; mx mx.example.org is not under it"),
	/* RFC 8461 4.1: the suffix must start at a label boundary */
	NOMATCH("wildcard_no_boundary", "*.example.com", "mxexample.com",
		"is not under it"),
	/* RFC 8461 4.1: the one label must not be empty */
	NOMATCH("wildcard_empty_label", "*.example.com", ".example.com",
		"mx .example.com has an empty label before example.com"),
	/* RFC 8461 4.1: nor hold an empty label */
	NOMATCH("wildcard_inner_empty", "*.example.com", "a..example.com",
		"has an empty label"),
	/* RFC 8461 3.2: an invalid pattern matches nothing, and says why */
	NOMATCH("invalid_pattern", "*example.com", "mxexample.com",
		"pattern *example.com is invalid: a wildcard must be the whole leftmost label"),
	/* RFC 8461 4.1: an empty host matches nothing */
	NOMATCH("empty_host", "mx.example.com", "", "the mx host name is empty"),
	/* RFC 8461 4.1: a host of only "." is empty too */
	NOMATCH("dot_host", "*.example.com", ".", "the mx host name is empty"),

	/* RFC 8461 4.1: the first matching pattern is reported */
	ANY("any_first", "mx2.example.org", 1, 3, "mx1.example.org", "*.example.org",
	    "mx2.example.org"),
	/* RFC 8461 4.1: no pattern matches */
	ANY("any_none", "mx.example.net", -1, 2, "mx1.example.org", "*.example.org"),
	/* RFC 8461 3.2: invalid and missing patterns are skipped */
	ANY("any_skips_invalid", "mx.example.org", 2, 3, "*example.org", NULL, "MX.example.org."),
	/* RFC 8461 4.1: an empty list matches nothing */
	ANY("any_empty_list", "mx.example.org", -1, 0, NULL),
};

static void run_row(void **state)
{
	const struct row *r = *state;
	char why[256];
	bool got;

	memset(why, 'Z', sizeof(why));
	switch (r->kind) {
	case K_VALID:
		got = mx_pattern_valid(r->pattern, why, sizeof(why));
		break;
	case K_MATCH:
		got = mx_pattern_match(r->pattern, r->host, why, sizeof(why));
		/* why is optional */
		assert_int_equal(mx_pattern_match(r->pattern, r->host, NULL, 0), got);
		break;
	case K_ANY:
	default:
		assert_int_equal(mx_match_any((char *const *)r->patterns, r->n_patterns, r->host),
				 r->index);
		return;
	}
	if (got != r->expect)
		fail_msg("%s(\"%s\"%s%s) is %s, expected %s (why: %s)",
			 r->kind == K_VALID ? "mx_pattern_valid" : "mx_pattern_match", r->pattern,
			 r->host ? ", " : "", r->host ? r->host : "", got ? "true" : "false",
			 r->expect ? "true" : "false", why);
	assert_non_null(memchr(why, '\0', sizeof(why)));
	if (r->expect)
		assert_string_equal(why, "");
	else if (!strstr(why, r->why))
		fail_msg("why \"%s\" lacks \"%s\"", why, r->why);
}

/* A short why buffer is truncated, never overrun. */
static void test_short_why(void **state)
{
	char why[8 + 8];

	(void)state;
	memset(why, 'Z', sizeof(why));
	assert_false(mx_pattern_match("*.example.com", "a.b.example.com", why, 8));
	assert_int_equal(strlen(why), 7);
	assert_int_equal(why[8], 'Z');
	assert_false(mx_pattern_valid("*", why, 1));
	assert_string_equal(why, "");
}

static int setup(void **state)
{
	(void)state;
	memset(label63, 'a', 63);
	memcpy(label63 + 63, ".example", 9);
	memset(label64, 'a', 64);
	memcpy(label64 + 64, ".example", 9);
	/* labels of 49 characters and a dot, 253 characters in all; one more for 254 */
	for (size_t i = 0; i < 253; i++)
		name253[i] = (i % 50 == 49) ? '.' : 'a';
	name253[253] = '\0';
	memcpy(name254, name253, 253);
	name254[253] = 'a';
	name254[254] = '\0';
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(rows) + 1];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		tests[n].name = rows[i].name;
		tests[n].test_func = run_row;
		tests[n].setup_func = NULL;
		tests[n].teardown_func = NULL;
		tests[n++].initial_state = (void *)&rows[i];
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_short_why);
	return _cmocka_run_group_tests("mx_match", tests, n, setup, NULL);
}
