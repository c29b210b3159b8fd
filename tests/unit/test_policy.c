/* Unit tests of the MTA-STS policy parser: one row per rule of RFC 8461 section 3.2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/policy.h"
#include "lib/defs.h"

#define SUBJECT "https://mta-sts.example.org/.well-known/mta-sts.txt"
#define MAX_EXP 6

#define V "version: STSv1\r\n"
#define M "mode: enforce\r\n"
#define X "mx: mx1.example.org\r\n"
#define A "max_age: 604800\r\n"
#define GOOD V M X A

/* An expected finding; the list ends at the first entry without a message substring. */
struct exp_finding {
	enum finding_code code;
	enum severity sev;
	const char *msg;	/* a substring the message must hold */
};

struct row {
	const char *name;
	const char *body;
	size_t len;		/* 0: strlen(body) */
	const char *(*build)(size_t *len);	/* builds the body instead */
	bool valid;
	enum policy_mode mode;
	long max_age;
	size_t n_mx;
	const char *mx0;	/* first pattern, when n_mx */
	enum policy_eol eol;
	unsigned n_unknown;
	bool version_ok;
	struct exp_finding f[MAX_EXP];
};

#define F(c, s, m) { (c), (s), (m) }
#define INVALID(m) F(F_POLICY_INVALID, SEV_CRITICAL, m)
#define NOTE(m) F(F_POLICY_NOTE, SEV_INFO, m)
#define NOTE_W(m) F(F_POLICY_NOTE, SEV_WARNING, m)
#define LF_ONLY F(F_POLICY_LINE_ENDINGS, SEV_INFO, "lines end in LF only")

/* The parsed fields a row expects: mode, max_age, n_mx, mx[0], eol, version_ok. */
#define FIELDS(md, ma, nm, m0, eo, vok) .mode = POLICY_MODE_##md, .max_age = (ma), \
	.n_mx = (nm), .mx0 = (m0), .eol = POLICY_EOL_##eo, .version_ok = (vok)
/* The fields of GOOD. */
#define OK_FIELDS FIELDS(ENFORCE, 604800, 1, "mx1.example.org", CRLF, true)

static const char *build_many_mx(size_t *len);
static const char *build_too_large(size_t *len);
static const char *build_max_len(size_t *len);
static const char *build_many_bad_mx(size_t *len);

static const struct row rows[] = {
	/* RFC 8461 3.2: a complete policy with CRLF, the reference form */
	{ "good_crlf", GOOD, .valid = true, OK_FIELDS },
	/* RFC 8461 3.2: the example of the RFC, LF-only (sts-policy-term = LF / CRLF) */
	{ "rfc_example_lf", "version: STSv1\nmode: enforce\nmx: mail.example.com\n"
	  "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n", .valid = true,
	  FIELDS(ENFORCE, 604800, 3, "mail.example.com", LF, true),
	  .f = { F(F_POLICY_LINE_ENDINGS, SEV_INFO, "lines end in LF only (6 lines; RFC 8461 "
		   "3.2 shows CRLF but its ABNF accepts LF") } },
	/* RFC 8461 3.2: CRLF and LF may both end lines; mixed is noted */
	{ "mixed_eol", "version: STSv1\r\nmode: enforce\nmx: mx1.example.org\r\n"
	  "max_age: 604800\n", .valid = true,
	  FIELDS(ENFORCE, 604800, 1, "mx1.example.org", MIXED, true),
	  .f = { F(F_POLICY_LINE_ENDINGS, SEV_INFO, "mixed line endings: 2 CRLF and 2 LF-only "
		   "(first LF-only on line 2") } },
	/* RFC 8461 3.2: [sts-policy-term] after the last field is optional */
	{ "no_final_newline", V M X "max_age: 604800", .valid = true, OK_FIELDS },
	/* RFC 8461 3.2: one line without a terminator; the other fields are missing */
	{ "single_line", "version: STSv1", FIELDS(UNSET, -1, 0, NULL, NONE, true),
	  .f = { F(F_POLICY_MODE, SEV_CRITICAL, "no mode field"),
		 F(F_POLICY_MAX_AGE, SEV_CRITICAL, "no max_age field"),
		 F(F_POLICY_MX_MISSING, SEV_CRITICAL, "no mx field") } },
	/* RFC 8461 3.2: *WSP after each value is part of the ABNF: not flagged */
	{ "trailing_wsp_allowed", "version: STSv1 \t\r\nmode: enforce  \r\n"
	  "mx: mx1.example.org\t\r\nmax_age: 604800 \r\n", .valid = true, OK_FIELDS },
	/* RFC 8461 3.2: sts-policy-field-delim = ":" *WSP, so no space is fine */
	{ "delim_no_space", "version:STSv1\r\nmode:enforce\r\nmx:mx1.example.org\r\n"
	  "max_age:604800\r\n", .valid = true, OK_FIELDS },
	/* RFC 8461 3.2: the delimiter's WSP may be tabs */
	{ "delim_tab", "version:\tSTSv1\r\nmode:\t\tenforce\r\n" X A, .valid = true, OK_FIELDS },
	/* RFC 8461 3.2: version must be STSv1 */
	{ "version_wrong", "version: STSv2\r\n" M X A,
	  FIELDS(ENFORCE, 604800, 1, "mx1.example.org", CRLF, false),
	  .f = { F(F_POLICY_VERSION, SEV_CRITICAL, "line 1: version \"STSv2\" is not STSv1") } },
	/* RFC 8461 3.2: %s"STSv1" is case-sensitive */
	{ "version_case", "version: stsv1\r\n" M X A,
	  FIELDS(ENFORCE, 604800, 1, "mx1.example.org", CRLF, false),
	  .f = { F(F_POLICY_VERSION, SEV_CRITICAL, "the value is case-sensitive") } },
	/* RFC 8461 3.2: version is required */
	{ "version_missing", M X A, FIELDS(ENFORCE, 604800, 1, "mx1.example.org", CRLF, false),
	  .f = { F(F_POLICY_VERSION, SEV_CRITICAL, "no version field (RFC 8461 3.2 requires "
		   "\"version: STSv1\"); senders that reject it ignore your policy, so mail "
		   "from them is not protected: rejected by the RFC 8461 grammar, "
		   "postfix-mta-sts-resolver, postfix-tlspol, maddy (go-mtasts), mox, mailauth "
		   "and Halon; accepted by Stalwart") } },
	/* RFC 8461 3.2: the ABNF allows version anywhere; the examples put it first */
	{ "version_not_first", M V X A, .valid = true, OK_FIELDS,
	  .f = { NOTE("version is on line 2, not the first field (the ABNF (RFC 8461 3.2) "
		      "allows any order, the RFC examples list it first); senders accept it") } },
	/* RFC 8461 3.2: mode is enforce, testing or none (the brief's example message) */
	{ "mode_enforcing", V "mode: enforcing\r\n" X A,
	  FIELDS(UNSET, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MODE, SEV_CRITICAL, "line 2: mode \"enforcing\" is not one of "
		   "enforce, testing, none (RFC 8461 3.2); senders treat the whole policy as "
		   "invalid and fall back to no MTA-STS; write \"mode: enforce\"") } },
	/* RFC 8461 3.2: %s"enforce" is case-sensitive */
	{ "mode_case", V "mode: Enforce\r\n" X A,
	  FIELDS(UNSET, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MODE, SEV_CRITICAL, "the values are case-sensitive (%s in RFC "
		   "8461 3.2)") } },
	/* RFC 8461 3.2: a mode needs a value */
	{ "mode_empty", V "mode:\r\n" X A, FIELDS(UNSET, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MODE, SEV_CRITICAL, "line 2: mode has no value") } },
	/* RFC 8461 3.2: mode is required */
	{ "mode_missing", V X A, FIELDS(UNSET, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MODE, SEV_CRITICAL, "no mode field") } },
	/* RFC 8461 5: testing delivers anyway and reports */
	{ "mode_testing", V "mode: testing\r\n" X A, .valid = true,
	  FIELDS(TESTING, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MODE_TESTING, SEV_INFO, "mode testing; senders deliver even") } },
	/* RFC 8461 3.2: mode none needs no mx; Stalwart refuses it (pol.none_without_mx) */
	{ "mode_none_no_mx", V "mode: none\r\n" A, .valid = true,
	  FIELDS(NONE, 604800, 0, NULL, CRLF, true),
	  .f = { F(F_POLICY_MODE_NONE, SEV_INFO, "mode none; senders treat the domain as having "
		   "no MTA-STS policy"),
		 NOTE_W("mode none without an mx line (RFC 8461 3.2 allows it: mx is required "
			"unless mode is none); some senders ignore your policy, so mail from them "
			"is not protected: rejected by Stalwart;") } },
	/* RFC 8461 3.2: mode none may still list mx */
	{ "mode_none_with_mx", V "mode: none\r\n" X A, .valid = true,
	  FIELDS(NONE, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MODE_NONE, SEV_INFO, "mode none") } },
	/* RFC 8461 3.2: one day is not under one day */
	{ "max_age_one_day", V M X "max_age: 86400\r\n", .valid = true,
	  FIELDS(ENFORCE, 86400, 1, "mx1.example.org", CRLF, true) },
	/* RFC 8461 3.2: "weeks or greater"; under a day warns */
	{ "max_age_short", V M X "max_age: 86399\r\n", .valid = true,
	  FIELDS(ENFORCE, 86399, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_WARNING, "line 4: max_age 86399 is under one day "
		   "(86400 s; RFC 8461 3.2 expects weeks or more); a short max_age leaves "
		   "senders unprotected between fetches") } },
	/* RFC 8461 3.2: 0 is a valid value (non-negative), and short */
	{ "max_age_zero", V M X "max_age: 0\r\n", .valid = true,
	  FIELDS(ENFORCE, 0, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_WARNING, "under one day") } },
	/* RFC 8461 3.2: maximum value of 31557600 */
	{ "max_age_max", V M X "max_age: 31557600\r\n", .valid = true,
	  FIELDS(ENFORCE, 31557600, 1, "mx1.example.org", CRLF, true) },
	/* RFC 8461 3.2: above the maximum is invalid; some senders cap it (pol.max_age_above_max) */
	{ "max_age_over", V M X "max_age: 31557601\r\n",
	  FIELDS(ENFORCE, -1, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_CRITICAL, "max_age 31557601 is above 31557600 (one "
		   "year, the RFC 8461 3.2 maximum); senders that reject it ignore your policy, "
		   "so mail from them is not protected: rejected by the RFC 8461 grammar, "
		   "postfix-mta-sts-resolver and mailauth; accepted by maddy (go-mtasts) and "
		   "mox; read otherwise by postfix-tlspol, Stalwart and Halon") } },
	/* RFC 8461 3.2: 1*10 DIGIT, no unit */
	{ "max_age_unit", V M X "max_age: 1w\r\n",
	  FIELDS(ENFORCE, -1, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_CRITICAL, "max_age \"1w\" is not a number of "
		   "seconds") } },
	/* RFC 8461 3.2: 1*10 DIGIT, no sign */
	{ "max_age_negative", V M X "max_age: -1\r\n",
	  FIELDS(ENFORCE, -1, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_CRITICAL, "is not a number of seconds") } },
	/* RFC 8461 3.2: at most 10 digits; most senders read more (pol.max_age_11_digits) */
	{ "max_age_11_digits", V M X "max_age: 00000604800\r\n", .valid = true, OK_FIELDS,
	  .f = { NOTE_W("line 4: max_age \"00000604800\" has 11 digits; this tool reads 604800 "
			"(RFC 8461 3.2 allows 1 to 10)") } },
	/* RFC 8461 3.2: 1*10 DIGIT; most senders read a '+' (pol.max_age_sign) */
	{ "max_age_plus", V M X "max_age: +604800\r\n", .valid = true, OK_FIELDS,
	  .f = { NOTE_W("line 4: max_age \"+604800\" has a sign; this tool reads 604800 (RFC "
			"8461 3.2: digits only); some senders ignore your policy") } },
	/* RFC 8461 3.2: a huge value is not read, whatever its digits */
	{ "max_age_12_digits", V M X "max_age: 100000000000\r\n",
	  FIELDS(ENFORCE, -1, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_CRITICAL, "has 12 digits (RFC 8461 3.2 allows 1 to "
		   "10)") } },
	/* RFC 8461 3.2: 10 digits with leading zeros are fine */
	{ "max_age_10_digits", V M X "max_age: 0000604800\r\n", .valid = true, OK_FIELDS },
	/* RFC 8461 3.2: max_age needs a value */
	{ "max_age_empty", V M X "max_age:\r\n",
	  FIELDS(ENFORCE, -1, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_CRITICAL, "line 4: max_age has no value") } },
	/* RFC 8461 3.2: max_age is required */
	{ "max_age_missing", V M X, FIELDS(ENFORCE, -1, 1, "mx1.example.org", CRLF, true),
	  .f = { F(F_POLICY_MAX_AGE, SEV_CRITICAL, "no max_age field") } },
	/* RFC 8461 3.2: mx is required unless mode is none */
	{ "mx_missing", V M A, FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { F(F_POLICY_MX_MISSING, SEV_CRITICAL, "no mx field (RFC 8461 3.2 requires at "
		   "least one unless mode is none)") } },
	/* RFC 8461 3.2: mx = ["*."] Domain; a partial wildcard is not */
	{ "mx_partial_wildcard", V M "mx: *mail.example.org\r\n" A,
	  FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { INVALID("line 3: mx pattern \"*mail.example.org\" is invalid: a wildcard must "
			 "be the whole leftmost label") } },
	/* RFC 8461 3.2: one pattern per mx line */
	{ "mx_list_on_one_line", V M "mx: mx1.example.org, mx2.example.org\r\n" A,
	  FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { INVALID("write one pattern per mx line") } },
	/* RFC 8461 3.2: an mx needs a value */
	{ "mx_empty", V M "mx:\r\n" A, FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { INVALID("line 3: mx pattern \"\" is invalid: the pattern is empty") } },
	/* RFC 8461 3.2: "*." and a domain is a valid pattern */
	{ "mx_wildcard", V M "mx: *.example.org\r\n" A, .valid = true,
	  FIELDS(ENFORCE, 604800, 1, "*.example.org", CRLF, true) },
	/* RFC 8461 3.2: mx may repeat (one per MX host) */
	{ "mx_repeated", V M X "mx: mx2.example.org\r\n" A, .valid = true,
	  FIELDS(ENFORCE, 604800, 2, "mx1.example.org", CRLF, true) },
	/* RFC 8461 3.2 + RFC 5321: Domain has no trailing dot; senders differ (lenient) */
	{ "mx_trailing_dot", V M "mx: mx1.example.org.\r\n" A, .valid = true,
	  FIELDS(ENFORCE, 604800, 1, "mx1.example.org.", CRLF, true),
	  .f = { NOTE_W("line 3: mx pattern ends with '.' (RFC 5321 Domain (RFC 8461 3.2) has "
			"no trailing dot; this tool ignores the dot when matching); some senders "
			"ignore your policy, so mail from them is not protected: rejected by the "
			"RFC 8461 grammar and mox;") } },
	/* RFC 8461 3.2: IDNs go in as A-labels; the fix names the A-label (libidn2) */
	{ "mx_utf8", V M "mx: m\xc3\xbcnchen.example\r\n" A,
	  FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { INVALID("line 3: mx pattern \"m\\xc3\\xbcnchen.example\" is not in A-labels "
			 "(RFC 8461 3.2 wants [\"*.\"] Domain, and a Domain (RFC 5321) is ASCII: "
			 "internationalized names are written as A-labels (RFC 5890))") } },
	/* ...a U-label wildcard: the fix keeps the "*." */
	{ "mx_utf8_wildcard", V M "mx: *.\xc3\xb1" "aca.com\r\n" A,
	  FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { INVALID("write \"mx: *.xn--aca-6ma.com\"") } },
	/* ...a U-label beside a label with a tab in it: libidn2 passes the tab through, and
	 * the fix offers no "A-label" that is no name (found by fuzz_policy) */
	{ "mx_utf8_tab", V M "mx: exa\tmple.m\xc3\xbc" "nchen.example\r\n" A,
	  FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { INVALID("write the name as A-labels (xn--...); it is not a valid "
			 "internationalized name either") } },
	/* RFC 1123 2.1: a host name is never dotted-decimal; tlspol and mox reject it */
	{ "mx_ipv4", V M "mx: 192.0.2.1\r\n" A, .valid = true,
	  FIELDS(ENFORCE, 604800, 1, "192.0.2.1", CRLF, true),
	  .f = { NOTE_W("line 3: mx pattern \"192.0.2.1\" is an IP address") } },
	/* RFC 8461 3.2 sts-policy-vchar includes ':'; maddy splits at every ':' */
	{ "unknown_key_colon", GOOD "owner: https://example.org/\r\n", .valid = true,
	  OK_FIELDS, .n_unknown = 1,
	  .f = { NOTE_W("line 5: the value of key \"owner\" holds ':'"),
		 F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "owner on line 5") } },
	/* RFC 8461 3.2 (bounded memory): more than POLICY_MAX_MX patterns are cut, noted */
	{ "mx_too_many", .build = build_many_mx, .valid = true,
	  FIELDS(ENFORCE, 604800, POLICY_MAX_MX, "mx0.example.org", CRLF, true),
	  .f = { NOTE_W("the policy lists 257 mx patterns; this tool keeps the first 256 and "
			"ignores 1") } },
	/* RFC 8461 3.2: "unknown fields SHOULD be ignored" */
	{ "unknown_key", GOOD "foo: bar baz\r\n", .valid = true, OK_FIELDS, .n_unknown = 1,
	  .f = { F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "1 unknown key (foo on line 5); senders skip "
		   "them, as RFC 8461 3.2 says") } },
	/* RFC 8461 3.2: several unknown keys make one finding listing them */
	{ "unknown_keys", V "a: 1\r\n" M "b.c-d_e: 2\r\n" X A, .valid = true, OK_FIELDS,
	  .n_unknown = 2,
	  .f = { F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "2 unknown keys (a on line 2, b.c-d_e on "
		   "line 4)") } },
	/* RFC 8461 3.2: ext values may hold UTF-8 (sts-policy-vchar) */
	{ "unknown_key_utf8", GOOD "comment: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\r\n",
	  .valid = true, OK_FIELDS, .n_unknown = 1,
	  .f = { F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "comment on line 5") } },
	/* RFC 8461 3.2: sts-policy-ext-value needs a character; most senders skip it */
	{ "unknown_key_empty_value", GOOD "foo:\r\n", .valid = true, OK_FIELDS, .n_unknown = 1,
	  .f = { NOTE_W("line 5: key \"foo\" has an empty value"),
		 F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "foo on line 5") } },
	/* RFC 8461 3.2: sts-policy-ext-value holds SP but no HTAB inside */
	{ "unknown_key_tab_inside", GOOD "foo: a\tb\r\n", OK_FIELDS, .n_unknown = 1,
	  .f = { INVALID("tab inside the value of \"foo\""),
		 F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "foo on line 5") } },
	/* RFC 8461 3.2: %s"mode" is case-sensitive: "Mode" is unknown, mode is missing */
	{ "key_case", V "Mode: enforce\r\n" X A,
	  FIELDS(UNSET, 604800, 1, "mx1.example.org", CRLF, true),
	  .n_unknown = 1,
	  .f = { NOTE_W("line 2: key \"Mode\" differs from \"mode\" only in case (field names "
			"are case-sensitive"),
		 F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "Mode on line 2"),
		 F(F_POLICY_MODE, SEV_CRITICAL, "no mode field") } },
	/* RFC 8461 3.2: duplicates: the first is used; same value is harmless */
	{ "dup_same", V M M X A, .valid = true, OK_FIELDS,
	  .f = { NOTE("mode given twice with the same value \"enforce\" (lines 2 and 3)") } },
	/* RFC 8461 3.2: duplicates that differ: first used, last-keeping parsers disagree */
	{ "dup_differ", V M "mode: testing\r\n" X A, .valid = true, OK_FIELDS,
	  .f = { NOTE_W("mode given twice: enforce (used) and testing (lines 2 and 3; RFC 8461 "
			"3.2: the first counts, senders that keep the last use testing); senders "
			"read it differently: accepted by the RFC 8461 grammar, postfix-tlspol and "
			"mox; read otherwise by postfix-mta-sts-resolver, maddy (go-mtasts), "
			"Stalwart, mailauth and Halon") } },
	/* RFC 8461 3.2: the first max_age is used */
	{ "dup_max_age", V M X A "max_age: 60\r\n", .valid = true, OK_FIELDS,
	  .f = { NOTE_W("max_age given twice: 604800 (used) and 60") } },
	/* RFC 8461 3.2: the first version is used, a bad second one is only noted */
	{ "dup_version", V M X A "version: STSv2\r\n", .valid = true, OK_FIELDS,
	  .f = { NOTE_W("version given twice: STSv1 (used) and STSv2") } },
	/* RFC 8461 3.2: a third copy counts; one policy.note lists both, at the worst severity */
	{ "dup_three", V M M "mode: none\r\n" X A, .valid = true, OK_FIELDS,
	  .f = { NOTE_W("mode given 3 times: enforce (used) and none (lines 2 and 4; RFC 8461 "
			"3.2: the first counts, senders that keep the last use none; mode given "
			"twice with the same value \"enforce\" (lines 2 and 3))") } },
	/* RFC 8461 3.2: sts-policy-term is LF or CRLF, a lone CR is neither */
	{ "bare_cr", V "mode: enforce\r" X A, OK_FIELDS,
	  .f = { INVALID("line 2: carriage return (\\r) not followed by a line feed") } },
	/* RFC 8461 3.2: no empty line in the ABNF; most senders skip them (pol.blank_line) */
	{ "blank_line", V M "\r\n" X A, .valid = true, OK_FIELDS,
	  .f = { NOTE_W("1 blank line (the first at line 3; the ABNF (RFC 8461 3.2) has no "
			"empty lines); some senders ignore your policy, so mail from them is not "
			"protected: rejected by the RFC 8461 grammar, postfix-tlspol, maddy "
			"(go-mtasts) and mox; accepted by postfix-mta-sts-resolver, Stalwart, "
			"mailauth and Halon; Google and Microsoft: unknown; remove it") } },
	/* RFC 8461 3.2: newlines at the end are blank lines too (pol.trailing_blank_line) */
	{ "trailing_newlines", GOOD "\r\n\r\n", .valid = true, OK_FIELDS,
	  .f = { NOTE_W("2 blank lines at the end (the first at line 5;") } },
	/* RFC 8461 3.2: a whitespace-only line counts as blank (lenient) */
	{ "whitespace_line", V M " \t\r\n" X A, .valid = true, OK_FIELDS,
	  .f = { NOTE_W("1 blank line (the first at line 3;") } },
	/* RFC 8461 3.2: nothing may precede the first key, not even a BOM */
	{ "bom", "\xef\xbb\xbf" GOOD, OK_FIELDS,
	  .f = { INVALID("line 1: the file starts with a UTF-8 byte order mark (EF BB BF)") } },
	/* RFC 8461 3.2: each line starts with the key */
	{ "leading_wsp", V " mode: enforce\r\n" X A,
	  FIELDS(UNSET, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { INVALID("line 2: leading whitespace before the key (\" mode: enforce\")"),
		 F(F_POLICY_MODE, SEV_CRITICAL, "no mode field") } },
	/* RFC 8461 3.2: each line is key ":" value */
	{ "no_colon", GOOD "mode enforce\r\n", OK_FIELDS,
	  .f = { INVALID("line 5: \"mode enforce\" has no ':'") } },
	/* RFC 8461 3.2: the key is not empty */
	{ "empty_key", GOOD ": enforce\r\n", OK_FIELDS,
	  .f = { INVALID("line 5: empty key before ':'") } },
	/* RFC 8461 3.2: no WSP between key and ':' */
	{ "space_before_colon", V "mode : enforce\r\n" X A,
	  FIELDS(UNSET, 604800, 1, "mx1.example.org", CRLF, true),
	  .f = { INVALID("line 2: key \"mode \" is not a field name (RFC 8461 3.2: a letter or "
			 "digit, then up to 31 letters, digits, '_', '-' or '.', no whitespace "
			 "before ':'); senders that reject it ignore your policy, so mail from "
			 "them is not protected: rejected by the RFC 8461 grammar, "
			 "postfix-mta-sts-resolver, postfix-tlspol, maddy (go-mtasts) and mox; "
			 "accepted by Stalwart, mailauth and Halon; Google and Microsoft: "
			 "unknown; remove the space before ':'"),
		 F(F_POLICY_MODE, SEV_CRITICAL, "no mode field") } },
	/* RFC 8461 3.2: sts-policy-ext-name starts with a letter or digit; most skip it */
	{ "bad_key", GOOD "_foo: x\r\n", .valid = true, OK_FIELDS, .n_unknown = 1,
	  .f = { NOTE_W("line 5: key \"_foo\" is not a field name"),
		 F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "_foo on line 5") } },
	/* RFC 8461 3.2: sts-policy-ext-name has at most 32 characters; most skip it */
	{ "long_key", GOOD "abcdefghijklmnopqrstuvwxyz0123456: x\r\n", .valid = true,
	  OK_FIELDS, .n_unknown = 1,
	  .f = { NOTE_W("is not a field name"),
		 F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "unknown key") } },
	/* RFC 8461 3.2: a key with a character no extension name has stays invalid */
	{ "key_with_brace", GOOD "{\"version\": x\r\n", OK_FIELDS,
	  .f = { INVALID("line 5: key \"{\"version\"\" is not a field name") } },
	/* RFC 8461 3.2: control characters are no sts-policy-vchar */
	{ "control_byte", V M X "max_age: 604800\x01\r\n",
	  FIELDS(ENFORCE, -1, 1, "mx1.example.org", CRLF, true),
	  .f = { INVALID("line 4: control byte 0x01 at column 16"),
		 F(F_POLICY_MAX_AGE, SEV_CRITICAL, "no max_age field") } },
	/* RFC 8461 3.2: NUL bytes are invalid */
	{ "nul_byte", V M X "max_age: 604800\r\nfoo: a\0b\r\n", .len = sizeof(GOOD) - 1 + 10,
	  OK_FIELDS, .f = { INVALID("line 5: NUL byte at column 7") } },
	/* RFC 8461 3.2 / RFC 3629: invalid UTF-8 */
	{ "bad_utf8", GOOD "comment: \xc3\x28\r\n", OK_FIELDS,
	  .f = { INVALID("line 5: invalid UTF-8, byte 0xc3 at column 10") } },
	/* RFC 3629: UTF-16 surrogates are not UTF-8 */
	{ "utf8_surrogate", GOOD "comment: \xed\xa0\x80\r\n", OK_FIELDS,
	  .f = { INVALID("invalid UTF-8, byte 0xed") } },
	/* RFC 3629: overlong forms are not UTF-8 */
	{ "utf8_overlong", GOOD "comment: \xc0\xaf\r\n", OK_FIELDS,
	  .f = { INVALID("invalid UTF-8, byte 0xc0") } },
	/* RFC 8461 3.2: an HTML error page is no policy: one finding says so, naming a line */
	{ "html_page", "<html>\n<head>\n<title>404</title>\n</head>\n<body>Not found</body>\n"
	  "</html>\n", FIELDS(UNSET, -1, 0, NULL, LF, false),
	  .f = { INVALID("no \"key: value\" line at all: this is not an MTA-STS policy (72 bytes, "
			 "starting \"<html>\\n<head>\\n<title>404</title>\\n</head>\\n<body>Not "
			 "found</body>\\n...\"; line 1: \"<html>\" has no ':'; 5 more invalid lines; "
			 "RFC 8461 3.2)"),
		 LF_ONLY } },
	/* one finding per identity: two invalid lines are one policy.invalid naming both */
	{ "two_invalid_lines", GOOD "foo bar\r\nbaz qux\r\n", OK_FIELDS,
	  .f = { INVALID("line 5: \"foo bar\" has no ':' (RFC 8461 3.2: each line is key \":\" "
			 "value; line 6: \"baz qux\" has no ':'); senders that reject it ignore "
			 "your policy, so mail from them is not protected") } },
	/* ...an invalid line and an invalid mx pattern too, each with its own fix */
	{ "invalid_line_and_mx", GOOD "mx: *mail.example.org\r\nfoo bar\r\n", OK_FIELDS,
	  .f = { INVALID("line 5: mx pattern \"*mail.example.org\" is invalid: a wildcard must "
			 "be the whole leftmost label"),
		 } },
	/* max_age three times: the two duplicates are one policy.note */
	{ "max_age_thrice", V M X A "max_age: 86400\r\nmax_age: 604800\r\n", .valid = true,
	  OK_FIELDS,
	  .f = { NOTE_W("max_age given twice: 604800 (used) and 86400 (lines 4 and 5; RFC 8461 "
			"3.2: the first counts, senders that keep the last use 86400; max_age "
			"given 3 times with the same value \"604800\" (lines 4 and 6))") } },
	/* mode and max_age repeated: one policy.note for both */
	{ "mode_and_max_age_repeated", V M M X A A, .valid = true, OK_FIELDS,
	  .f = { NOTE("mode given twice with the same value \"enforce\" (lines 2 and 3; max_age "
		      "given twice with the same value \"604800\" (lines 5 and 6))") } },
	/* many bad mx patterns: the evidence lists a few and counts the rest */
	{ "many_invalid_mx", .build = build_many_bad_mx, FIELDS(ENFORCE, 604800, 0, NULL, CRLF, true),
	  .f = { INVALID("line 11: mx pattern \"bad pattern 8\" is invalid: character ' ' is not "
			 "a letter, digit or '-' (RFC 5321 Domain); and 22 more); senders treat") } },
	/* RFC 8461 3.2: an empty body has no field */
	{ "empty_body", "", FIELDS(UNSET, -1, 0, NULL, NONE, false),
	  .f = { INVALID("no \"key: value\" line at all: this is not an MTA-STS policy (0 "
			 "bytes;") } },
	/* RFC 8461 3.3: senders may stop at 64 KiB; larger bodies are refused */
	{ "too_large", .build = build_too_large, FIELDS(UNSET, -1, 0, NULL, NONE, false),
	  .f = { F(F_POLICY_TOO_LARGE, SEV_CRITICAL, "the policy has 65537 bytes, more than "
		   "65536") } },
	/* RFC 8461 3.3: exactly 64 KiB is read (here: a long unknown value) */
	{ "max_len", .build = build_max_len, .valid = true, OK_FIELDS, .n_unknown = 1,
	  .f = { F(F_POLICY_UNKNOWN_KEY, SEV_INFO, "pad on line 5") } },
};

static char big[POLICY_MAX_BODY + 2];

static const char *build_many_mx(size_t *len)
{
	size_t o = 0;

	o += (size_t)snprintf(big + o, sizeof(big) - o, V M A);
	for (int i = 0; i <= POLICY_MAX_MX; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "mx: mx%d.example.org\r\n", i);
	*len = o;
	return big;
}

static const char *build_too_large(size_t *len)
{
	memset(big, 'a', POLICY_MAX_BODY + 1);
	*len = POLICY_MAX_BODY + 1;
	return big;
}

static const char *build_max_len(size_t *len)
{
	size_t o = strlen(GOOD "pad: ");

	memcpy(big, GOOD "pad: ", o);
	memset(big + o, 'x', POLICY_MAX_BODY - o);
	*len = POLICY_MAX_BODY;
	return big;
}

static const char *build_many_bad_mx(size_t *len)
{
	size_t o = 0;

	o += (size_t)snprintf(big + o, sizeof(big) - o, V M A);
	for (int i = 1; i <= 30; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "mx: bad pattern %d\r\n", i);
	*len = o;
	return big;
}

static void dump(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		print_message("  got %s %s [%s] %s\n", finding_code_str(fs->v[i].code),
			      severity_str(fs->v[i].sev), fs->v[i].subject, fs->v[i].message);
}

/* The findings must be exactly the expected ones (any order), all printable. */
static void check_findings(const struct findings *fs, const struct exp_finding *exp)
{
	bool used[32] = { false };
	size_t n_exp = 0;

	assert_true(fs->n <= ARRAY_LEN(used));
	for (size_t i = 0; i < fs->n; i++)
		for (const char *p = fs->v[i].message; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
				dump(fs);
				fail_msg("finding %zu holds byte 0x%02x", i, (unsigned char)*p);
			}
	/* one finding per identity (code, subject): the store's findings index is unique */
	for (size_t i = 0; i < fs->n; i++)
		for (size_t k = i + 1; k < fs->n; k++)
			if (fs->v[i].code == fs->v[k].code &&
			    strcmp(fs->v[i].subject, fs->v[k].subject) == 0) {
				dump(fs);
				fail_msg("two %s findings for %s", finding_code_str(fs->v[i].code),
					 fs->v[i].subject);
			}
	for (; n_exp < MAX_EXP && exp[n_exp].msg; n_exp++) {
		const struct exp_finding *e = &exp[n_exp];
		size_t i;

		for (i = 0; i < fs->n; i++)
			if (!used[i] && fs->v[i].code == e->code && fs->v[i].sev == e->sev &&
			    strstr(fs->v[i].message, e->msg))
				break;
		if (i == fs->n) {
			dump(fs);
			fail_msg("no %s %s finding containing \"%s\"", finding_code_str(e->code),
				 severity_str(e->sev), e->msg);
		}
		used[i] = true;
		assert_string_equal(fs->v[i].subject, SUBJECT);
	}
	if (fs->n != n_exp) {
		dump(fs);
		fail_msg("%zu findings, expected %zu", fs->n, n_exp);
	}
}

static void run_row(void **state)
{
	const struct row *r = *state;
	const char *body = r->body;
	size_t len = r->len;
	struct findings fs;
	struct policy p;
	int rc;

	if (r->build)
		body = r->build(&len);
	else if (!len)
		len = strlen(body);
	findings_init(&fs);
	memset(&p, 0x5a, sizeof(p));	/* the parser must initialise everything */
	rc = policy_parse(body, len, &p, &fs, SUBJECT);
	check_findings(&fs, r->f);
	assert_int_equal(p.valid, r->valid);
	assert_int_equal(rc, r->valid ? 0 : -1);
	assert_int_equal(p.mode, r->mode);
	assert_int_equal(p.max_age, r->max_age);
	assert_int_equal(p.n_mx, r->n_mx);
	if (r->n_mx)
		assert_string_equal(p.mx[0], r->mx0);
	else
		assert_null(p.mx);
	assert_int_equal(p.eol, r->eol);
	assert_int_equal(p.n_unknown, r->n_unknown);
	assert_int_equal(p.version_ok, r->version_ok);
	policy_free(&p);
	assert_int_equal(p.n_mx, 0);
	assert_null(p.mx);
	findings_free(&fs);
}

/* policy_copy makes an independent deep copy; policy_free empties the struct. */
static void test_copy(void **state)
{
	static const char body[] = V M X "mx: *.example.net\r\n" A;
	struct findings fs;
	struct policy p, q;

	(void)state;
	findings_init(&fs);
	assert_int_equal(policy_parse(body, strlen(body), &p, &fs, SUBJECT), 0);
	policy_copy(&q, &p);
	assert_ptr_not_equal(q.mx, p.mx);
	assert_ptr_not_equal(q.mx[1], p.mx[1]);
	policy_free(&p);
	assert_int_equal(p.max_age, -1);
	assert_true(q.valid);
	assert_int_equal(q.mode, POLICY_MODE_ENFORCE);
	assert_int_equal(q.max_age, 604800);
	assert_int_equal(q.n_mx, 2);
	assert_string_equal(q.mx[0], "mx1.example.org");
	assert_string_equal(q.mx[1], "*.example.net");
	policy_free(&q);
	findings_free(&fs);
}

/* policy_mode_str names every mode, "unset" for anything else. */
static void test_mode_str(void **state)
{
	(void)state;
	assert_string_equal(policy_mode_str(POLICY_MODE_NONE), "none");
	assert_string_equal(policy_mode_str(POLICY_MODE_TESTING), "testing");
	assert_string_equal(policy_mode_str(POLICY_MODE_ENFORCE), "enforce");
	assert_string_equal(policy_mode_str(POLICY_MODE_UNSET), "unset");
	assert_string_equal(policy_mode_str((enum policy_mode)42), "unset");
}

/* Findings are added after what the caller already holds; validity counts only new ones. */
static void test_appends(void **state)
{
	static const char body[] = GOOD;
	struct findings fs;
	struct policy p;

	(void)state;
	findings_init(&fs);
	finding_set_what(findings_add(&fs, F_POLICY_FETCH, SEV_CRITICAL, "x"), "earlier");
	/* same identity as what the parser adds: the merge must not make a good policy bad */
	finding_set_what(findings_add(&fs, F_POLICY_INVALID, SEV_CRITICAL, SUBJECT), "earlier");
	assert_int_equal(policy_parse(body, strlen(body), &p, &fs, SUBJECT), 0);
	assert_true(p.valid);
	assert_int_equal(fs.n, 2);
	policy_free(&p);
	findings_free(&fs);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(rows) + 3];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		tests[n].name = rows[i].name;
		tests[n].test_func = run_row;
		tests[n].setup_func = NULL;
		tests[n].teardown_func = NULL;
		tests[n++].initial_state = (void *)&rows[i];
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_copy);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_mode_str);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_appends);
	return _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
}
