/* Unit tests of the TLS-RPT record parser: one row per rule of RFC 8460 section 3. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/tlsrpt.h"
#include "lib/defs.h"

#define SUBJECT "_smtp._tls.example.org"
#define MAX_RECS 2
#define MAX_EXP 6
#define A1 "mailto:a@example.org"

/* An expected finding; the list ends at the first entry without a message substring. */
struct exp_finding {
	enum finding_code code;
	enum severity sev;
	const char *msg;	/* a substring the message must hold */
};

struct row {
	const char *name;
	const char *recs[MAX_RECS];
	size_t lens[MAX_RECS];	/* 0: strlen */
	size_t n;		/* records; 0 with recs[0] set means 1 */
	bool none;		/* no record at all */
	bool direct;		/* tlsrpt_parse on recs[0] instead of tlsrpt_select */
	bool valid;
	size_t n_rua;
	const char *rua0;	/* first usable URI, when n_rua */
	struct exp_finding f[MAX_EXP];
};

#define F(c, s, m) { (c), (s), (m) }
#define BAD(m) F(F_TLSRPT_INVALID, SEV_WARNING, m)
#define NOTE(m) F(F_TLSRPT_NOTE, SEV_INFO, m)
#define MISSING(m) F(F_TLSRPT_MISSING, SEV_WARNING, m)

static char many_rua[2048], five_bad[512], long_record[TLSRPT_MAX + 2];

static const struct row rows[] = {
	/* RFC 8460 3: the mailto: example of the RFC */
	{ "mailto", { "v=TLSRPTv1; rua=mailto:tlsrpt@example.com" }, .valid = true, .n_rua = 1,
	  .rua0 = "mailto:tlsrpt@example.com" },
	/* RFC 8460 3: the https: example of the RFC; field-delim may have no WSP */
	{ "https", { "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt" }, .valid = true,
	  .n_rua = 1, .rua0 = "https://reporting.example.com/v1/tlsrpt" },
	/* RFC 8460 3: several URIs separated by ',' */
	{ "two_uris", { "v=TLSRPTv1; rua=" A1 ",https://r.example.org:8443/x?y=1" },
	  .valid = true, .n_rua = 2, .rua0 = A1 },
	/* RFC 8460 3: *WSP "," *WSP between URIs */
	{ "wsp_around_comma", { "v=TLSRPTv1; rua=" A1 " ,\tmailto:b@example.org" },
	  .valid = true, .n_rua = 2, .rua0 = A1 },
	/* RFC 8460 3: URI schemes are case-insensitive (RFC 3986 3.1) */
	{ "scheme_case", { "v=TLSRPTv1; rua=MAILTO:a@example.org" }, .valid = true,
	  .n_rua = 1, .rua0 = "MAILTO:a@example.org" },
	/* RFC 8460 3: [field-delim] may end the record */
	{ "trailing_delim", { "v=TLSRPTv1; rua=" A1 "; " }, .valid = true, .n_rua = 1,
	  .rua0 = A1 },
	/* RFC 8460 3: extensions are allowed */
	{ "extension", { "v=TLSRPTv1; rua=" A1 "; ext=1" }, .valid = true, .n_rua = 1,
	  .rua0 = A1 },
	/* RFC 8460 3: ',' inside a URI is percent-encoded */
	{ "percent_encoded", { "v=TLSRPTv1; rua=mailto:a%2Cb@example.org" }, .valid = true,
	  .n_rua = 1, .rua0 = "mailto:a%2Cb@example.org" },
	/* RFC 8460 3: ABNF allows WSP before the first ';', the text discards the record */
	{ "wsp_before_first_delim", { "v=TLSRPTv1 ; rua=" A1 }, .valid = true, .n_rua = 1,
	  .rua0 = A1, .f = { NOTE("senders matching that literal prefix ignore it") } },
	/* RFC 8460 3: trailing WSP breaks the ABNF; senders trim it (lenient) */
	{ "trailing_wsp_lenient", { "v=TLSRPTv1; rua=" A1 "  " }, .valid = true, .n_rua = 1,
	  .rua0 = A1, .f = { NOTE("the strict ABNF (RFC 8460 3) rejects it; this tool treats it "
				  "as valid because common senders trim it") } },
	/* RFC 8460 3: only mailto: and https:; http: is not allowed */
	{ "http", { "v=TLSRPTv1; rua=http://r.example.org/" },
	  .f = { BAD("unusable rua URI (\"http://r.example.org/\" uses http:, which RFC 8460 3 "
		     "does not allow (reports go to https: or mailto: only)); senders cannot "
		     "report to it, and no other URI is usable, so you get no TLS reports") } },
	/* RFC 8460 3: other schemes are unusable */
	{ "ftp", { "v=TLSRPTv1; rua=ftp://r.example.org/" },
	  .f = { BAD("uses a scheme other than mailto: and https:") } },
	/* RFC 8460 3: one bad URI beside a good one: reports go to the good one */
	{ "one_bad_one_good", { "v=TLSRPTv1; rua=" A1 ",http://r.example.org/" }, .n_rua = 1,
	  .rua0 = A1, .f = { BAD("senders cannot report to it and use only the other URIs") } },
	/* RFC 8460 3: each URI needs its scheme */
	{ "bare_address", { "v=TLSRPTv1; rua=tlsrpt@example.org" },
	  .f = { BAD("has no scheme; write mailto: before an address") } },
	/* RFC 8460 3: a comma starts a new URI, which needs its own mailto: */
	{ "comma_in_mailto", { "v=TLSRPTv1; rua=" A1 ",b@example.org" }, .n_rua = 1, .rua0 = A1,
	  .f = { BAD("unusable rua URI (\"b@example.org\" has no scheme") } },
	/* RFC 8460 3 / RFC 6068: mailto: needs local@domain */
	{ "mailto_no_at", { "v=TLSRPTv1; rua=mailto:tlsrpt" },
	  .f = { BAD("is a mailto: URI without an address (local@domain)") } },
	/* RFC 6068: the domain of the address is a host name */
	{ "mailto_bad_domain", { "v=TLSRPTv1; rua=mailto:a@-bad-.example" },
	  .f = { BAD("has the mail domain \"-bad-.example\", which is not a host name") } },
	/* RFC 8460 3 / RFC 3986 3.2: https: needs "//" and a host */
	{ "https_no_slashes", { "v=TLSRPTv1; rua=https:/r.example.org" },
	  .f = { BAD("is an https: URI without \"//\" and a host") } },
	/* RFC 3986 3.2.2: the host is not empty */
	{ "https_no_host", { "v=TLSRPTv1; rua=https:///path" },
	  .f = { BAD("is an https: URI without a host") } },
	/* RFC 3986 3.2.3: the port is digits */
	{ "https_bad_port", { "v=TLSRPTv1; rua=https://r.example.org:x/" },
	  .f = { BAD("has a port that is not a number") } },
	/* RFC 8460 3: '!' must be percent-encoded (no DMARC size limit) */
	{ "bang", { "v=TLSRPTv1; rua=" A1 "!10m" },
	  .f = { BAD("contains '!', which RFC 8460 3 requires to be percent-encoded") } },
	/* RFC 3986 2.1: '%' is followed by two hex digits */
	{ "bad_percent", { "v=TLSRPTv1; rua=" A1 "%zz" },
	  .f = { BAD("that is not followed by two hex digits") } },
	/* RFC 8460 3: URIs are separated by ',', not by space */
	{ "space_between_uris", { "v=TLSRPTv1; rua=" A1 " mailto:b@example.org" },
	  .f = { BAD("contains whitespace; separate several URIs with ','") } },
	/* RFC 3986 2: characters outside the URI set */
	{ "bad_char", { "v=TLSRPTv1; rua=https://r.example.org/<x>" },
	  .f = { BAD("contains '<', which RFC 3986 does not allow") } },
	/* RFC 8460 3: a ',' needs a URI after it */
	{ "empty_uri", { "v=TLSRPTv1; rua=" A1 "," }, .n_rua = 1, .rua0 = A1,
	  .f = { BAD("is empty (a ',' with no URI after it?)") } },
	/* RFC 8460 3: bad URIs are reported one by one, then counted */
	{ "five_bad", { five_bad },
	  .f = { BAD("unusable rua URIs (\"http://1.example\" uses http:, which RFC 8460 3 "
		     "does not allow (reports go to https: or mailto: only); \"http://2.example\" "
		     "uses http:, which RFC 8460 3 does not allow (reports go to https: or mailto: "
		     "only); \"http://3.example\" uses http:, which RFC 8460 3 does not allow "
		     "(reports go to https: or mailto: only); \"http://4.example\" uses http:, "
		     "which RFC 8460 3 does not allow (reports go to https: or mailto: only); 1 "
		     "more); senders cannot report to them") } },
	/* RFC 8460 3: rua is required */
	{ "rua_missing", { "v=TLSRPTv1;" },
	  .f = { BAD("no rua field after \"v=TLSRPTv1;\" (TXT record \"v=TLSRPTv1;\"; RFC 8460 "
		     "3: rua is required)") } },
	/* RFC 8460 3: %s"rua=" is case-sensitive */
	{ "rua_case", { "v=TLSRPTv1; RUA=" A1 },
	  .f = { BAD("no rua field: the field name \"rua\" is case-sensitive") } },
	/* RFC 8460 3: rua= needs one URI or more */
	{ "rua_empty", { "v=TLSRPTv1; rua=" },
	  .f = { BAD("rua= has no URI") } },
	/* RFC 8460 3: "rua=" is followed directly by the URI (strict verdict) */
	{ "rua_leading_wsp", { "v=TLSRPTv1; rua= " A1 },
	  .f = { BAD("whitespace after \"rua=\"") } },
	/* RFC 8460 3: one rua field holds every URI */
	{ "rua_twice", { "v=TLSRPTv1; rua=" A1 "; rua=mailto:b@example.org" }, .n_rua = 1,
	  .rua0 = A1, .f = { BAD("two rua fields") } },
	/* RFC 8460 3: a field follows every ';' */
	{ "empty_field", { "v=TLSRPTv1; rua=" A1 ";; x=1" }, .n_rua = 1, .rua0 = A1,
	  .f = { BAD("empty field (';' followed by ';')") } },
	/* RFC 8460 3: tlsrpt-ext-value excludes '=' */
	{ "ext_value_equals", { "v=TLSRPTv1; rua=" A1 "; x=a=b" }, .n_rua = 1, .rua0 = A1,
	  .f = { BAD("the value of field x holds '='") } },
	/* RFC 8460 3: tlsrpt-ext-name starts with a letter or digit */
	{ "ext_name_bad", { "v=TLSRPTv1; rua=" A1 "; -x=1" }, .n_rua = 1, .rua0 = A1,
	  .f = { BAD("field name \"-x\" is not an extension name") } },
	/* RFC 8460 3: NUL bytes are invalid */
	{ "nul_byte", { "v=TLSRPTv1; rua=" A1 "\0" }, .lens = { 37 },
	  .f = { BAD("NUL byte at offset 36") } },
	/* RFC 8460 3: non-ASCII must be percent-encoded */
	{ "non_ascii", { "v=TLSRPTv1; rua=mailto:t\xc3\xa9@example.org" },
	  .f = { BAD("non-ASCII byte 0xc3 at offset 24") } },
	/* RFC 8460 3 sets no length; DNS carries 65535 bytes at most (lint input only) */
	{ "too_long", { long_record }, .f = { BAD("a DNS TXT record carries at most 65535 bytes") } },
	/* RFC 8460 3 (bounded memory): more than TLSRPT_MAX_RUA usable URIs are cut, noted */
	{ "too_many_uris", { many_rua }, .valid = true, .n_rua = TLSRPT_MAX_RUA,
	  .rua0 = "mailto:r0@example.org",
	  .f = { NOTE("rua lists 17 usable URIs; this tool keeps the first 16 and ignores 1") } },
	/* RFC 8460 3: no record: senders cannot report */
	{ "none", { NULL }, .none = true,
	  .f = { MISSING("no TLS-RPT record at _smtp._tls.example.org; senders cannot report TLS "
			 "failures to you; publish v=TLSRPTv1; rua=mailto:...") } },
	/* RFC 8460 3: other records are discarded */
	{ "other_only", { "v=spf1 -all" }, .f = { MISSING("no TLS-RPT record at") } },
	/* RFC 8460 3: %s"v=TLSRPTv1" is case-sensitive; the near miss is named */
	{ "version_case", { "v=tlsrptv1; rua=" A1 },
	  .f = { MISSING("comes close but \"v=TLSRPTv1\" is case-sensitive") } },
	/* RFC 8460 3: records must begin with "v=TLSRPTv1;" */
	{ "version_no_delim", { "v=TLSRPTv1" },
	  .f = { MISSING("\"v=TLSRPTv1\" is not followed by ';'") } },
	/* RFC 8460 3: other records beside one TLS-RPT record are ignored */
	{ "with_other", { "v=spf1 -all", "v=TLSRPTv1; rua=" A1 }, .n = 2, .valid = true,
	  .n_rua = 1, .rua0 = A1 },
	/* RFC 8460 3: more than one record means no TLS-RPT */
	{ "multiple", { "v=TLSRPTv1; rua=" A1, "v=TLSRPTv1; rua=mailto:b@example.org" }, .n = 2,
	  .f = { F(F_TLSRPT_MULTIPLE, SEV_WARNING, "2 records at _smtp._tls.example.org begin "
		   "with \"v=TLSRPTv1;\"") } },
	/* RFC 8460 3: tlsrpt_parse on a non-TLS-RPT record */
	{ "direct_not_tlsrpt", { "v=STSv1; id=1" }, .direct = true,
	  .f = { BAD("does not begin with \"v=TLSRPTv1;\"") } },
};

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
	size_t lens[MAX_RECS], n = r->none ? 0 : r->n ? r->n : 1;
	struct findings fs;
	struct tlsrpt out;
	int rc;

	for (size_t i = 0; i < MAX_RECS; i++)
		lens[i] = r->lens[i] ? r->lens[i] : r->recs[i] ? strlen(r->recs[i]) : 0;
	findings_init(&fs);
	memset(&out, 0x5a, sizeof(out));	/* the parser must initialise everything */
	if (r->direct)
		rc = tlsrpt_parse(r->recs[0], lens[0], &out, &fs, SUBJECT);
	else
		rc = tlsrpt_select(r->recs, lens, n, &out, &fs, SUBJECT);
	check_findings(&fs, r->f);
	assert_int_equal(out.valid, r->valid);
	assert_int_equal(rc, r->valid ? 0 : -1);
	assert_int_equal(out.n_rua, r->n_rua);
	if (r->n_rua)
		assert_string_equal(out.rua[0], r->rua0);
	for (size_t i = out.n_rua; i < TLSRPT_MAX_RUA; i++)
		assert_null(out.rua[i]);
	tlsrpt_free(&out);
	assert_int_equal(out.n_rua, 0);
	findings_free(&fs);
}

static int setup(void **state)
{
	size_t o;

	(void)state;
	o = (size_t)snprintf(many_rua, sizeof(many_rua), "v=TLSRPTv1; rua=");
	for (int i = 0; i <= TLSRPT_MAX_RUA; i++)
		o += (size_t)snprintf(many_rua + o, sizeof(many_rua) - o,
				      "%smailto:r%d@example.org", i ? "," : "", i);
	o = (size_t)snprintf(five_bad, sizeof(five_bad), "v=TLSRPTv1; rua=");
	for (int i = 1; i <= 5; i++)
		o += (size_t)snprintf(five_bad + o, sizeof(five_bad) - o, "%shttp://%d.example",
				      i > 1 ? "," : "", i);
	memset(long_record, 'a', sizeof(long_record) - 1);
	memcpy(long_record, "v=TLSRPTv1; rua=" A1 "; x=", 40);
	long_record[TLSRPT_MAX + 1] = '\0';
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(rows)];

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = run_row;
		tests[i].setup_func = NULL;
		tests[i].teardown_func = NULL;
		tests[i].initial_state = (void *)&rows[i];
	}
	return _cmocka_run_group_tests("tlsrpt", tests, ARRAY_LEN(rows), setup, NULL);
}
