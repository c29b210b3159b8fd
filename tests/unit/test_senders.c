/*
 * Unit tests of the sender profile (checks/senders.c): one table row per profile row, each
 * citing its RFC 8461 section and the sources that decide it (the full citations, per
 * column and commit, are next to the row in checks/senders.c and in docs/SENDERS.md); the
 * table against docs/senders.json, cell by cell; the wording of who rejects and accepts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "checks/judge.h"
#include "checks/policy.h"
#include "checks/senders.h"
#include "checks/sts_txt.h"
#include "lib/defs.h"

#define SENDERS_JSON "docs/senders.json"

enum kind { K_TXT, K_POLICY, K_FETCH };

/* How a fetch row changes the healthy fixture. */
enum fetch_change { FC_NONE, FC_CTYPE_HTML, FC_CTYPE_NONE, FC_STATUS_203, FC_TOO_LARGE,
		    FC_SLOW_10S };

struct row {
	const char *name;
	enum sender_rule rule;
	const char *rfc;		/* the RFC 8461 section the row is about */
	enum kind kind;
	const char *in[2];		/* TXT records, or the policy body */
	enum fetch_change fc;
	bool valid;			/* this tool's reading: the record or policy stays in force */
	enum finding_code code;		/* the finding that carries the rule */
	enum severity live, strict, lenient;
	const char *rejected;		/* the "rejected by ..." clause the message holds */
};

#define P_V "version: STSv1\r\n"
#define P_M "mode: enforce\r\n"
#define P_X "mx: mail.example.com\r\n"
#define P_A "max_age: 86400\r\n"
#define P_GOOD P_V P_M P_X P_A

#define W SEV_WARNING
#define C SEV_CRITICAL
#define I SEV_INFO

static const struct row rows[] = {
	/*
	 * RFC 8461 3.1 sts-field-delim: the first example. postfix-mta-sts-resolver
	 * accepts it (its own tests/test_utils.py test_parse_mta_sts_record case
	 * "v=STSv1;        id=20160831085700Z   "), postfix-tlspol rejects it
	 * (internal/mta-sts_test.go "trailing whitespace without delimiter"), as does mox
	 * (mtasts/parse.go ParseRecord)
	 */
	{ "txt_trailing_ws", SR_TXT_TRAILING_WS, "3.1", K_TXT, { "v=STSv1; id=policy1 " },
	  .valid = true, .code = F_STS_TXT_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.1: ABNF admits it, the discard rule not; Halon's mta_sts_fetch_dnstxt()
	 * compares the 8 bytes "v=STSv1;" */
	{ "txt_ws_before_semicolon", SR_TXT_WS_BEFORE_SEMI, "3.1", K_TXT, { "v=STSv1 ; id=x" },
	  .valid = true, .code = F_STS_TXT_NOTE, W, C, I, "rejected by Halon;" },
	/* RFC 8461 3.1 sts-text-record: pmsr test case "v=STSv1; id=20160831085700Z;;;"
	 * accepts, mox parse_test.go bad("v=STSv1; id=a;;") rejects */
	{ "txt_empty_field", SR_TXT_EMPTY_FIELD, "3.1", K_TXT, { "v=STSv1;; id=x" },
	  .valid = true, .code = F_STS_TXT_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.1 sts-id: tlspol isValidMtaStsTXTRecord() and mox ParseRecord() reject */
	{ "txt_id_non_alnum", SR_TXT_ID_NON_ALNUM, "3.1", K_TXT, { "v=STSv1; id=bad-value" },
	  .valid = true, .code = F_STS_TXT_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.1 sts-id 1*32: mox parse_test.go bad(33 digits) */
	{ "txt_id_too_long", SR_TXT_ID_TOO_LONG, "3.1", K_TXT,
	  { "v=STSv1; id=abcdefghijklmnopqrstuvwxyzabcdefg" },
	  .valid = true, .code = F_STS_TXT_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.1 sts-id needs a character: pmsr, Stalwart and Halon take "" */
	{ "txt_id_empty", SR_TXT_ID_EMPTY, "3.1", K_TXT, { "v=STSv1; id=" },
	  .valid = false, .code = F_STS_TXT_INVALID, C, C, C,
	  "rejected by the RFC 8461 grammar, postfix-tlspol, maddy (go-mtasts), mox and "
	  "mailauth;" },
	/* RFC 8461 3.1: the id is required; only Halon (no field parsing) takes it */
	{ "txt_id_missing", SR_TXT_ID_MISSING, "3.1", K_TXT, { "v=STSv1;" },
	  .valid = false, .code = F_STS_TXT_INVALID, C, C, C, "accepted by Halon;" },
	/* RFC 8461 3.1/3.2: the first of a repeated field counts; mox rejects the record,
	 * pmsr, maddy, Stalwart and mailauth take the last id */
	{ "txt_two_ids", SR_TXT_TWO_IDS, "3.1, 3.2", K_TXT, { "v=STSv1; id=a; id=b" },
	  .valid = true, .code = F_STS_TXT_NOTE, W, C, I, "rejected by mox;" },
	/* RFC 8461 3.1 sts-ext-name: tlspol and mox reject */
	{ "txt_ext_bad_name", SR_TXT_EXT_BAD_NAME, "3.1", K_TXT, { "v=STSv1; id=x; _ext=1" },
	  .valid = true, .code = F_STS_TXT_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.1 sts-ext-value: tlspol, maddy (readDNSRecord) and mox reject */
	{ "txt_ext_bad_value", SR_TXT_EXT_BAD_VALUE, "3.1", K_TXT,
	  { "v=STSv1; id=x; note=has space" }, .valid = true, .code = F_STS_TXT_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol, maddy (go-mtasts) and mox;" },
	/* RFC 8461 3.1 sts-ext-value includes ':'; mailauth's header parser loses v= and id= */
	{ "txt_ext_value_colon", SR_TXT_EXT_VALUE_COLON, "3.1", K_TXT,
	  { "v=STSv1; id=x; ext=a:b" }, .valid = true, .code = F_STS_TXT_NOTE, W, C, I,
	  "rejected by mailauth;" },
	/* RFC 8461 3.1 discards other records before counting; go-mtasts Cache.fetch counts
	 * every TXT record */
	{ "txt_unrelated_record", SR_TXT_UNRELATED_RECORD, "3.1", K_TXT,
	  { "verification=abc", "v=STSv1; id=x" }, .valid = true, .code = F_STS_TXT_NOTE,
	  W, C, I, "rejected by maddy (go-mtasts);" },
	/* RFC 8461 3.1: the record begins with the version; maddy and Stalwart do not check */
	{ "txt_version_not_first", SR_TXT_VERSION_NOT_FIRST, "3.1", K_TXT, { "id=x; v=STSv1" },
	  .valid = false, .code = F_STS_TXT_MISSING, C, C, C,
	  "accepted by maddy (go-mtasts) and Stalwart;" },
	/* RFC 8461 3.1 %s"v=STSv1": Stalwart and mailauth compare case-insensitively */
	{ "txt_version_case", SR_TXT_VERSION_CASE, "3.1", K_TXT, { "v=stsv1; id=x" },
	  .valid = false, .code = F_STS_TXT_MISSING, C, C, C,
	  "accepted by Stalwart and mailauth;" },
	/* RFC 8461 3.1 %s"id=": pmsr, tlspol, maddy and mox reject "ID=" */
	{ "txt_id_key_case", SR_TXT_ID_KEY_CASE, "3.1", K_TXT, { "v=STSv1; ID=x" },
	  .valid = false, .code = F_STS_TXT_INVALID, C, C, C,
	  "accepted by Stalwart, mailauth and Halon;" },

	/*
	 * RFC 8461 3.2 ABNF: no empty line: the second example. postfix-tlspol
	 * rejects it (internal/mta-sts_test.go "blank policy line is invalid"), as do maddy
	 * (readPolicy) and mox (ParsePolicy); pmsr, Stalwart, mailauth and Halon skip it
	 */
	{ "pol_blank_line", SR_POL_BLANK_LINE, "3.2", K_POLICY,
	  { "version: STSv1\n\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\n" },
	  .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol, maddy (go-mtasts) and mox;" },
	/* RFC 8461 3.2: an empty line at the end is still an empty line */
	{ "pol_trailing_blank_line", SR_POL_TRAILING_BLANK_LINE, "3.2", K_POLICY,
	  { P_GOOD "\r\n" }, .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol, maddy (go-mtasts) and mox;" },
	/* RFC 8461 3.2 sts-policy-term = LF / CRLF; only pmsr's splitlines() splits on CR */
	{ "pol_cr_only", SR_POL_CR_ONLY, "3.2", K_POLICY,
	  { "version: STSv1\rmode: enforce\rmx: mail.example.com\rmax_age: 86400\r" },
	  .valid = false, .code = F_POLICY_INVALID, C, C, C,
	  "accepted by postfix-mta-sts-resolver;" },
	/* RFC 8461 3.2: a line starts with its key; Stalwart, mailauth and Halon trim */
	{ "pol_ws_before_key", SR_POL_WS_BEFORE_KEY, "3.2", K_POLICY,
	  { P_V " mode: enforce\r\n" P_X P_A }, .valid = false, .code = F_POLICY_INVALID,
	  C, C, C, "accepted by Stalwart, mailauth and Halon;" },
	/* RFC 8461 3.2: no WSP before ':'; Stalwart, mailauth and Halon trim */
	{ "pol_ws_before_colon", SR_POL_WS_BEFORE_COLON, "3.2", K_POLICY,
	  { P_V "mode : enforce\r\n" P_X P_A }, .valid = false, .code = F_POLICY_INVALID,
	  C, C, C, "accepted by Stalwart, mailauth and Halon;" },
	/* RFC 8461 3.2 %s"mode": mailauth lower-cases keys; Stalwart, Halon do not enforce */
	{ "pol_key_case", SR_POL_KEY_CASE, "3.2", K_POLICY, { P_V "Mode: enforce\r\n" P_X P_A },
	  .valid = false, .code = F_POLICY_NOTE, W, C, W, "accepted by mailauth;" },
	/* RFC 8461 3.2 %s"enforce": mailauth lower-cases the value */
	{ "pol_mode_value_case", SR_POL_MODE_VALUE_CASE, "3.2", K_POLICY,
	  { P_V "mode: Enforce\r\n" P_X P_A }, .valid = false, .code = F_POLICY_MODE, C, C, C,
	  "accepted by mailauth;" },
	/* RFC 8461 3.2: the first of repeated fields counts; pmsr, maddy, Stalwart, mailauth
	 * and Halon keep the last: nobody rejects, the meaning differs */
	{ "pol_dup_mode", SR_POL_DUP_MODE, "3.2", K_POLICY,
	  { P_V "mode: testing\r\nmode: enforce\r\n" P_X P_A }, .valid = true,
	  .code = F_POLICY_NOTE, W, W, W,
	  "accepted by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.2: as above, for max_age */
	{ "pol_dup_max_age", SR_POL_DUP_MAX_AGE, "3.2", K_POLICY,
	  { P_V P_M P_X "max_age: 86400\r\nmax_age: 5\r\n" }, .valid = true,
	  .code = F_POLICY_NOTE, W, W, W,
	  "accepted by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.2: version is required; Stalwart checks it only when present */
	{ "pol_version_missing", SR_POL_VERSION_MISSING, "3.2", K_POLICY, { P_M P_X P_A },
	  .valid = false, .code = F_POLICY_VERSION, C, C, C, "accepted by Stalwart;" },
	/* RFC 8461 3.2 %s"STSv1": Stalwart does not compare it */
	{ "pol_version_case", SR_POL_VERSION_CASE, "3.2", K_POLICY,
	  { "version: stsv1\r\n" P_M P_X P_A }, .valid = false, .code = F_POLICY_VERSION,
	  C, C, C, "accepted by Stalwart;" },
	/* RFC 8461 3.2 sts-policy-vchar includes ':'; go-mtasts readPolicy splits at each ':' */
	{ "pol_unknown_key_colon", SR_POL_UNKNOWN_KEY_COLON, "3.2", K_POLICY,
	  { P_GOOD "foo: http://x\r\n" }, .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by maddy (go-mtasts);" },
	/* RFC 8461 3.2 sts-policy-ext-name: tlspol and mox reject "_comment" */
	{ "pol_ext_bad_name", SR_POL_EXT_BAD_NAME, "3.2", K_POLICY,
	  { P_GOOD "_comment: x\r\n" }, .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.2 sts-policy-ext-value needs a character: tlspol and mox reject */
	{ "pol_ext_empty_value", SR_POL_EXT_EMPTY_VALUE, "3.2", K_POLICY,
	  { P_GOOD "comment:\r\n" }, .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.2: every line is a field; pmsr, mailauth and Halon skip the line */
	{ "pol_line_without_colon", SR_POL_LINE_WITHOUT_COLON, "3.2", K_POLICY,
	  { P_GOOD "garbage\r\n" }, .valid = false, .code = F_POLICY_INVALID, C, C, C,
	  "accepted by postfix-mta-sts-resolver, mailauth and Halon;" },
	/* RFC 8461 3.2 "maximum value of 31557600": pmsr and mailauth reject */
	{ "pol_max_age_above_max", SR_POL_MAX_AGE_ABOVE_MAX, "3.2", K_POLICY,
	  { P_V P_M P_X "max_age: 31557601\r\n" }, .valid = false, .code = F_POLICY_MAX_AGE,
	  C, C, C, "rejected by the RFC 8461 grammar, postfix-mta-sts-resolver and mailauth;" },
	/* RFC 8461 3.2 1*10(DIGIT): tlspol isMtaStsDigits and mox reject a '+' */
	{ "pol_max_age_sign", SR_POL_MAX_AGE_SIGN, "3.2", K_POLICY,
	  { P_V P_M P_X "max_age: +86400\r\n" }, .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.2 1*10(DIGIT): mox parse_test.go bad("...max_age:01234567890") */
	{ "pol_max_age_11_digits", SR_POL_MAX_AGE_11_DIGITS, "3.2", K_POLICY,
	  { P_V P_M P_X "max_age: 00000086400\r\n" }, .valid = true, .code = F_POLICY_NOTE,
	  W, C, I, "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/*
	 * RFC 8461 3.2, 4.1 ["*."] Domain admits all-digit labels, RFC 1123 2.1 keeps host
	 * names out of that form: the third example. postfix-tlspol rejects it
	 * (internal/mta-sts_test.go "ip literal mx patterns are rejected"), mox too
	 * (dns.ParseDomain "ip address while name required")
	 */
	{ "pol_mx_ipv4", SR_POL_MX_IPV4, "3.2, 4.1", K_POLICY, { P_V P_M "mx: 1.2.3.4\r\n" P_A },
	  .valid = true, .code = F_POLICY_NOTE, W, C, I, "rejected by postfix-tlspol and mox;" },
	/* ...and its wildcard form */
	{ "pol_mx_wildcard_ipv4", SR_POL_MX_WILDCARD_IPV4, "3.2, 4.1", K_POLICY,
	  { P_V P_M "mx: *.1.2.3.4\r\n" P_A }, .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by postfix-tlspol and mox;" },
	/* RFC 8461 3.2 Domain is ASCII: mox parse_test.go bad("...mx: møx.example") */
	{ "pol_mx_ulabel", SR_POL_MX_ULABEL, "3.2", K_POLICY,
	  { P_V P_M "mx: mail.\xc3\xb1" "aca.com\r\n" P_A }, .valid = false,
	  .code = F_POLICY_INVALID, C, C, C,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox;" },
	/* RFC 8461 3.2: "*." is followed by a Domain; Halon takes "*" */
	{ "pol_mx_star_alone", SR_POL_MX_STAR_ALONE, "3.2, 4.1", K_POLICY,
	  { P_V P_M "mx: *\r\n" P_A }, .valid = false, .code = F_POLICY_INVALID, C, C, C,
	  "accepted by Halon;" },
	/* RFC 8461 3.2: only a leading "*."; pmsr passes it to Postfix, Halon keeps it */
	{ "pol_mx_inner_wildcard", SR_POL_MX_INNER_WILDCARD, "3.2, 4.1", K_POLICY,
	  { P_V P_M "mx: a.*.example.com\r\n" P_A }, .valid = false, .code = F_POLICY_INVALID,
	  C, C, C, "accepted by postfix-mta-sts-resolver and Halon;" },
	/* RFC 8461 3.2: one "*." only */
	{ "pol_mx_double_wildcard", SR_POL_MX_DOUBLE_WILDCARD, "3.2, 4.1", K_POLICY,
	  { P_V P_M "mx: *.*.example.com\r\n" P_A }, .valid = false, .code = F_POLICY_INVALID,
	  C, C, C, "accepted by postfix-mta-sts-resolver and Halon;" },
	/* RFC 8461 3.2 + RFC 5321 Domain has no trailing dot: mox rejects */
	{ "pol_mx_trailing_dot", SR_POL_MX_TRAILING_DOT, "3.2, 4.1", K_POLICY,
	  { P_V P_M "mx: mail.example.com.\r\n" P_A }, .valid = true, .code = F_POLICY_NOTE,
	  W, C, W, "rejected by the RFC 8461 grammar and mox;" },
	/* RFC 8461 3.2: an mx needs a Domain; Halon takes an empty one */
	{ "pol_mx_empty", SR_POL_MX_EMPTY, "3.2", K_POLICY, { P_V P_M "mx:\r\n" P_A },
	  .valid = false, .code = F_POLICY_INVALID, C, C, C, "accepted by Halon;" },
	/* RFC 8461 3.2: mx is required unless mode is none; Stalwart's Policy::parse() asks
	 * for one in every mode */
	{ "pol_none_without_mx", SR_POL_NONE_WITHOUT_MX, "3.2", K_POLICY,
	  { P_V "mode: none\r\n" P_A }, .valid = true, .code = F_POLICY_NOTE, W, C, I,
	  "rejected by Stalwart;" },

	/* RFC 8461 3.3 text/plain: pmsr (test_resolve_status bad-policy3.loc), tlspol
	 * (TestMtaStsPolicyMediaType) and go-mtasts downloadPolicy() refuse text/html */
	{ "fetch_ctype_other", SR_FETCH_CTYPE_OTHER, "3.3", K_FETCH, .fc = FC_CTYPE_HTML,
	  .valid = true, .code = F_POLICY_CONTENT_TYPE, W, C, W,
	  "rejected by the RFC 8461 grammar, postfix-mta-sts-resolver, postfix-tlspol and maddy "
	  "(go-mtasts);" },
	/* RFC 8461 3.3: no Content-Type at all, the same readers */
	{ "fetch_ctype_missing", SR_FETCH_CTYPE_MISSING, "3.3", K_FETCH, .fc = FC_CTYPE_NONE,
	  .valid = true, .code = F_POLICY_CONTENT_TYPE, W, C, W,
	  "rejected by the RFC 8461 grammar, postfix-mta-sts-resolver, postfix-tlspol and maddy "
	  "(go-mtasts);" },
	/* RFC 8461 3.3: status 200 only; Stalwart and mailauth take any 2xx */
	{ "fetch_status_203", SR_FETCH_STATUS_2XX, "3.3", K_FETCH, .fc = FC_STATUS_203,
	  .valid = false, .code = F_POLICY_HTTP_STATUS, C, C, C,
	  "accepted by Stalwart and mailauth;" },
	/* RFC 8461 3.3: senders may stop at 64 KiB; maddy, Stalwart and mailauth read on */
	{ "fetch_body_over_64k", SR_FETCH_BODY_OVER_64K, "3.3", K_FETCH, .fc = FC_TOO_LARGE,
	  .valid = false, .code = F_POLICY_TOO_LARGE, C, C, C,
	  "accepted by maddy (go-mtasts), Stalwart and mailauth;" },
	/* RFC 8461 3.3 suggests a minute; pmsr (4 s), tlspol (2 s) and Halon (5 s) give up
	 * (lint never fetches; the strict view would make it an error all the same) */
	{ "fetch_slow_10s", SR_FETCH_SLOW_10S, "3.3", K_FETCH, .fc = FC_SLOW_10S,
	  .valid = true, .code = F_POLICY_SLOW, W, C, W,
	  "rejected by postfix-mta-sts-resolver, postfix-tlspol and Halon;" },
};

static const enum findings_view views[3] = { VIEW_LIVE, VIEW_LINT_STRICT, VIEW_LINT_LENIENT };

static enum severity want_sev(const struct row *r, enum findings_view view)
{
	return view == VIEW_LIVE ? r->live : view == VIEW_LINT_STRICT ? r->strict : r->lenient;
}

static void dump(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		print_message("  got %s %s rules %#llx %s\n", finding_code_str(fs->v[i].code),
			      severity_str(fs->v[i].sev), fs->v[i].senders_rules, fs->v[i].message);
}

static void fetch_change(struct domain_facts *df, enum fetch_change fc)
{
	switch (fc) {
	case FC_CTYPE_HTML:
		strcpy(df->fetch.content_type, "text/html");
		break;
	case FC_CTYPE_NONE:
		df->fetch.content_type[0] = '\0';
		break;
	case FC_STATUS_203:
		df->fetch.http_status = 203;
		break;
	case FC_TOO_LARGE:
		df->fetch.rc = FETCH_TOO_LARGE;
		break;
	case FC_SLOW_10S:
		df->fetch.total_ms = 10500;
		break;
	case FC_NONE:
		break;
	}
}

/* Read the row's input under a view; returns whether it stays in force, fills fs. */
static bool read_row(const struct row *r, enum findings_view view, struct findings *fs)
{
	struct judge_opts o;
	bool valid = false;

	judge_opts_defaults(&o);
	o.view = view;
	if (r->kind == K_TXT) {
		const char *recs[2] = { r->in[0], r->in[1] };
		size_t lens[2] = { strlen(r->in[0]), r->in[1] ? strlen(r->in[1]) : 0 };
		struct sts_txt st;

		judge_findings_init(&o, fs);
		valid = sts_txt_select(recs, lens, r->in[1] ? 2 : 1, &st, fs, "_mta-sts") == 0;
	} else if (r->kind == K_POLICY) {
		struct policy p;

		judge_findings_init(&o, fs);
		valid = policy_parse(r->in[0], strlen(r->in[0]), &p, fs, "policy") == 0;
		policy_free(&p);
	} else {
		struct domain_facts df;
		struct verdict v;

		fixture_healthy(&df);
		fetch_change(&df, r->fc);
		judge_domain(&o, &df, NULL, NOW, &v);
		valid = v.policy_usable;
		/* hand the findings over: the verdict's list is moved, not copied */
		*fs = v.findings;
		findings_init(&v.findings);
		verdict_free(&v);
		domain_facts_free(&df);
	}
	return valid;
}

/* The finding that carries the row's rule. */
static const struct finding *with_rule(const struct findings *fs, enum sender_rule rule)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].senders_rules & (1ULL << rule))
			return &fs->v[i];
	return NULL;
}

static void run_row(void **state)
{
	const struct row *r = *state;
	const struct sender_profile *p = sender_profile(r->rule);

	assert_non_null(p);
	assert_string_equal(p->rfc, r->rfc);
	/* the reading follows the table: lenient where more known senders accept than reject */
	assert_int_equal(r->valid, p->lenient);
	for (size_t k = 0; k < ARRAY_LEN(views); k++) {
		struct findings fs;
		const struct finding *f;
		bool valid = read_row(r, views[k], &fs);

		f = with_rule(&fs, r->rule);
		if (!f || valid != r->valid || f->code != r->code ||
		    f->sev != want_sev(r, views[k]) || !strstr(f->consequence, r->rejected)) {
			dump(&fs);
			fail_msg("%s, view %zu: valid %d (want %d), finding %s %s (want %s %s "
				 "holding \"%s\")", r->name, k, valid, r->valid,
				 f ? finding_code_str(f->code) : "none",
				 f ? severity_str(f->sev) : "-", finding_code_str(r->code),
				 severity_str(want_sev(r, views[k])), r->rejected);
		}
		/* a finding of this one rule carries exactly the row's columns */
		if (f->senders_rules == (1ULL << r->rule)) {
			assert_int_equal(f->senders_accept, p->accept);
			assert_int_equal(f->senders_reject, p->reject);
			assert_int_equal(f->senders_other, p->other);
		}
		findings_free(&fs);
	}
}

/* Every row of the enum has a table entry and a test row, and ids parse back. */
static void test_every_rule_has_a_row(void **state)
{
	(void)state;
	for (int rule = SR_NONE + 1; rule < SR__COUNT; rule++) {
		const struct sender_profile *p = sender_profile((enum sender_rule)rule);
		bool tested = false;

		assert_non_null(p);
		assert_int_equal(sender_rule_parse(p->id), rule);
		for (size_t i = 0; i < ARRAY_LEN(rows); i++)
			tested |= rows[i].rule == (enum sender_rule)rule;
		if (!tested)
			fail_msg("profile row %s has no test row", p->id);
		/* each column is in at most one of accept, reject, other */
		assert_int_equal(p->accept & p->reject, 0);
		assert_int_equal(p->accept & p->other, 0);
		assert_int_equal(p->reject & p->other, 0);
		/* the two providers document nothing: unknown in every row */
		assert_int_equal((p->accept | p->reject | p->other) &
				 (SENDER_BIT(S_GOOGLE) | SENDER_BIT(S_MICROSOFT)), 0);
	}
	assert_null(sender_profile(SR_NONE));
	assert_null(sender_profile(SR__COUNT));
	assert_int_equal(sender_rule_parse("no.such_rule"), SR_NONE);
}

static unsigned popcount(unsigned m)
{
	unsigned n = 0;

	for (; m; m &= m - 1)
		n++;
	return n;
}

/* The reading of each row is the table's majority, not a choice made row by row. */
static void test_reading_is_the_majority(void **state)
{
	(void)state;
	for (int rule = SR_NONE + 1; rule < SR__COUNT; rule++) {
		const struct sender_profile *p = sender_profile((enum sender_rule)rule);
		unsigned a = popcount(p->accept & SENDERS_KNOWN), r = popcount(p->reject &
									    SENDERS_KNOWN);

		if (p->lenient != (a > r))
			fail_msg("%s: %u known accept, %u reject, but lenient is %d", p->id, a, r,
				 p->lenient);
	}
}

/* docs/senders.json is the research; the C table must say what it says, cell by cell. */
static void test_table_matches_json(void **state)
{
	const char *path = getenv("STSWATCH_SENDERS_JSON") ? getenv("STSWATCH_SENDERS_JSON") :
			   SENDERS_JSON;
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err), *rules;
	unsigned compared = 0;

	(void)state;
	if (!doc)
		fail_msg("%s: %s (line %d); run the tests from the source tree", path, err.text,
			 err.line);
	rules = json_object_get(doc, "rules");
	assert_true(json_is_array(rules));
	for (int rule = SR_NONE + 1; rule < SR__COUNT; rule++) {
		const struct sender_profile *p = sender_profile((enum sender_rule)rule);
		json_t *row = NULL, *cells;
		size_t i;

		json_array_foreach(rules, i, row)
			if (strcmp(json_string_value(json_object_get(row, "id")), p->id) == 0)
				break;
		if (i == json_array_size(rules))
			fail_msg("%s is not a rule of %s", p->id, path);
		assert_string_equal(json_string_value(json_object_get(row, "rfc_section")), p->rfc);
		cells = json_object_get(row, "cells");
		for (int s = 0; s < S__COUNT; s++) {
			json_t *cell = json_object_get(cells, sender_id((enum sender)s));
			const char *verdict = json_string_value(json_object_get(cell, "verdict"));
			unsigned b = SENDER_BIT(s);
			const char *ours = p->accept & b ? "accept" : p->reject & b ? "reject" :
					   p->other & b ? "lenient-other" : "unknown";

			if (!verdict)
				fail_msg("%s: no cell for %s", p->id, sender_id((enum sender)s));
			if (strcmp(verdict, ours) != 0)
				fail_msg("%s, %s: the table says %s, %s says %s", p->id,
					 sender_id((enum sender)s), ours, path, verdict);
			compared++;
		}
	}
	assert_int_equal(compared, (SR__COUNT - 1) * S__COUNT);
	json_decref(doc);
}

/* The words the findings use: the example, and the lenient-other clause. */
static void test_senders_str(void **state)
{
	const struct sender_profile *p = sender_profile(SR_TXT_TRAILING_WS);
	char buf[640];

	(void)state;
	senders_str(p->accept, p->reject, p->other, buf, sizeof(buf));
	assert_string_equal(buf, "rejected by the RFC 8461 grammar, postfix-tlspol and mox; "
			    "accepted by postfix-mta-sts-resolver, maddy (go-mtasts), Stalwart, "
			    "mailauth and Halon; Google and Microsoft: unknown");
	p = sender_profile(SR_POL_KEY_CASE);
	senders_str(p->accept, p->reject, p->other, buf, sizeof(buf));
	assert_string_equal(buf, "rejected by the RFC 8461 grammar, postfix-mta-sts-resolver, "
			    "postfix-tlspol, maddy (go-mtasts) and mox; accepted by mailauth; read "
			    "otherwise by Stalwart and Halon; Google and Microsoft: unknown");
	/* a short buffer is cut, never overrun */
	senders_str(p->accept, p->reject, p->other, buf, 12);
	assert_string_equal(buf, "rejected by");
	senders_str(0, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "the RFC 8461 grammar, postfix-mta-sts-resolver, postfix-tlspol, "
			    "maddy (go-mtasts), mox, Stalwart, mailauth, Halon, Google and "
			    "Microsoft: unknown");
}

/* The one rule of severities, apart from the parsers. */
static void test_severity_rule(void **state)
{
	(void)state;
	/* read leniently, a listed sender rejects: WARNING live, CRITICAL strict */
	assert_int_equal(senders_severity(SR_TXT_TRAILING_WS, SEV_INFO, VIEW_LIVE), SEV_WARNING);
	assert_int_equal(senders_severity(SR_TXT_TRAILING_WS, SEV_INFO, VIEW_LINT_STRICT),
			 SEV_CRITICAL);
	assert_int_equal(senders_severity(SR_TXT_TRAILING_WS, SEV_INFO, VIEW_LINT_LENIENT),
			 SEV_INFO);
	/* nobody rejects, the meaning differs: the base severity everywhere */
	assert_int_equal(senders_severity(SR_POL_DUP_MODE, SEV_WARNING, VIEW_LINT_STRICT),
			 SEV_WARNING);
	assert_int_equal(senders_severity(SR_POL_DUP_MODE, SEV_INFO, VIEW_LIVE), SEV_INFO);
	/* read as invalid: as the parser says, in every view */
	assert_int_equal(senders_severity(SR_TXT_ID_EMPTY, SEV_CRITICAL, VIEW_LIVE), SEV_CRITICAL);
	assert_int_equal(senders_severity(SR_POL_KEY_CASE, SEV_WARNING, VIEW_LIVE), SEV_WARNING);
	assert_int_equal(senders_severity(SR_POL_KEY_CASE, SEV_WARNING, VIEW_LINT_STRICT),
			 SEV_CRITICAL);
	/* no rule: untouched */
	assert_int_equal(senders_severity(SR_NONE, SEV_INFO, VIEW_LINT_STRICT), SEV_INFO);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(rows) + 5];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		tests[n++] = (struct CMUnitTest){ rows[i].name, run_row, NULL, NULL,
						  (void *)&rows[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_rule_has_a_row);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_reading_is_the_majority);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_table_matches_json);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_senders_str);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_severity_rule);
	return _cmocka_run_group_tests("senders", tests, n, NULL, NULL);
}
