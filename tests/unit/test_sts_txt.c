/* Unit tests of the MTA-STS TXT record parser: one row per rule of RFC 8461 section 3.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/sts_txt.h"
#include "lib/defs.h"

#define SUBJECT "_mta-sts.example.org"
#define MAX_RECS 3
#define MAX_EXP 4

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
	size_t n;		/* records at the name; 0 with recs[0] set means 1 */
	bool none;		/* no record at all (n really is 0) */
	bool direct;		/* call sts_txt_parse on recs[0] instead of sts_txt_select */
	int is_sts;		/* sts_txt_is_sts(recs[0]): 1, 0, or -1 to skip */
	bool valid;
	const char *id;		/* expected id when valid */
	unsigned n_ext;
	struct exp_finding f[MAX_EXP];
};

#define F(c, s, m) { (c), (s), (m) }
#define INVALID(m) F(F_STS_TXT_INVALID, SEV_CRITICAL, m)
#define NOTE(m) F(F_STS_TXT_NOTE, SEV_INFO, m)
#define NOTE_W(m) F(F_STS_TXT_NOTE, SEV_WARNING, m)
/* what the live view says where a listed sender rejects a record this tool reads */
#define IGNORE "some senders ignore your policy, so mail from them is not protected: "
#define MISSING(m) F(F_STS_TXT_MISSING, SEV_CRITICAL, m)

static char long_record[STS_TXT_MAX + 2];

static const struct row rows[] = {
	/* RFC 8461 3.1: the example record of the RFC */
	{ "rfc_example", { "v=STSv1; id=20160831085700Z;" }, .is_sts = 1, .valid = true,
	  .id = "20160831085700Z" },
	/* RFC 8461 3.1: sts-sep = *WSP %x3B *WSP, so no space at all is fine */
	{ "sep_no_space", { "v=STSv1;id=abc" }, .is_sts = 1, .valid = true, .id = "abc" },
	/* RFC 8461 3.1: WSP is SP or HTAB on both sides of ';', trailing [sts-sep] */
	{ "sep_tabs", { "v=STSv1;\tid=abc\t;\t" }, .is_sts = 1, .valid = true, .id = "abc" },
	/* RFC 8461 3.1: [sts-sep] may end the record */
	{ "trailing_sep", { "v=STSv1; id=abc;" }, .is_sts = 1, .valid = true, .id = "abc" },
	/* RFC 8461 3.1: the final sts-sep may carry WSP after the ';' */
	{ "trailing_sep_wsp", { "v=STSv1; id=abc;  " }, .is_sts = 1, .valid = true, .id = "abc" },
	/* RFC 8461 3.1: ABNF allows WSP before the first ';', the text discards the record;
	 * Halon does (txt.ws_before_semicolon) */
	{ "wsp_before_first_sep", { "v=STSv1 ; id=abc" }, .is_sts = 1, .valid = true, .id = "abc",
	  .f = { NOTE_W(IGNORE "rejected by Halon; accepted by postfix-mta-sts-resolver, "
			"postfix-tlspol, maddy (go-mtasts), mox, Stalwart and mailauth") } },
	/* RFC 8461 3.1: trailing WSP without ';' breaks the ABNF; most senders trim it, but
	 * postfix-tlspol and mox reject it (txt.trailing_ws_no_semicolon) */
	{ "trailing_wsp_lenient", { "v=STSv1; id=abc " }, .is_sts = 1, .valid = true, .id = "abc",
	  .f = { NOTE_W("the TXT record ends in whitespace without a final ';' (TXT record "
			"\"v=STSv1; id=abc \"; RFC 8461 3.1: whitespace only around a ';' "
			"(sts-field-delim)); " IGNORE "rejected by the RFC 8461 grammar, "
			"postfix-tlspol and mox; accepted by postfix-mta-sts-resolver, maddy "
			"(go-mtasts), Stalwart, mailauth and Halon; Google and Microsoft: unknown; "
			"remove the trailing whitespace") } },
	/* both notes at once are one sts.txt.note naming both */
	{ "wsp_before_sep_and_trailing", { "v=STSv1 ; id=abc " }, .is_sts = 1, .valid = true,
	  .id = "abc",
	  .f = { NOTE_W("whitespace before the first ';' of the TXT record (TXT record "
			"\"v=STSv1 ; id=abc \"; RFC 8461 3.1: sts-field-delim = *WSP \";\" *WSP, "
			"but records that do not begin with \"v=STSv1;\" are discarded; the TXT "
			"record ends in whitespace without a final ';'") } },
	/* RFC 8461 3.1: a trailing tab counts as WSP too (lenient, as above) */
	{ "trailing_tab_lenient", { "v=STSv1; id=abc\t" }, .is_sts = 1, .valid = true,
	  .id = "abc", .f = { NOTE_W("ends in whitespace without a final ';'") } },
	/* RFC 8461 3.1: %s"v=STSv1" is case-sensitive; the near miss is named */
	{ "version_upper_v", { "V=STSv1; id=abc" }, .is_sts = 0,
	  .f = { MISSING("\"V=STSv1; id=abc\" comes close but \"v=STSv1\" is case-sensitive") } },
	/* RFC 8461 3.1: %s"v=STSv1" is case-sensitive */
	{ "version_lower", { "v=stsv1; id=abc" }, .is_sts = 0,
	  .f = { MISSING("is case-sensitive") } },
	/* RFC 8461 3.1: records must begin with "v=STSv1;", leading WSP discards them */
	{ "leading_wsp", { " v=STSv1; id=abc" }, .is_sts = 0,
	  .f = { MISSING("comes close but it begins with whitespace") } },
	/* RFC 8461 3.1: the version is followed by sts-sep, i.e. ';' */
	{ "no_sep_after_version", { "v=STSv1 id=abc" }, .is_sts = 0,
	  .f = { MISSING("\"v=STSv1\" is not followed by ';'") } },
	/* RFC 8461 3.1: "v=STSv1" alone lacks the ';' and the id */
	{ "version_only", { "v=STSv1" }, .is_sts = 0,
	  .f = { MISSING("is not followed by ';'") } },
	/* RFC 8461 3.1: "v=STSv1x" is no version tag */
	{ "version_suffix", { "v=STSv1x; id=1" }, .is_sts = 0,
	  .f = { MISSING("is not followed by ';'") } },
	/* RFC 8461 3.1: no TXT record at all means no policy */
	{ "no_record", { NULL }, .none = true,
	  .f = { MISSING("no MTA-STS record at _mta-sts.example.org (0 TXT records") } },
	/* RFC 8461 3.1: other TXT records are discarded */
	{ "only_other_records", { "v=spf1 -all", "google-site-verification=x" }, .n = 2,
	  .is_sts = 0, .f = { MISSING("2 TXT records, none begins with \"v=STSv1;\"") } },
	/* RFC 8461 3.1: other records are discarded and the STS record is used; maddy counts
	 * them and sees no policy (txt.unrelated_record) */
	{ "other_records_ignored", { "v=spf1 -all", "v=STSv1; id=2" }, .n = 2, .is_sts = 0,
	  .valid = true, .id = "2",
	  .f = { NOTE_W("1 other TXT record next to the MTA-STS record (\"v=spf1 -all\"; RFC 8461 "
			"3.1 discards records that do not begin with \"v=STSv1;\"); " IGNORE
			"rejected by maddy (go-mtasts);") } },
	/* RFC 8461 3.1: a discarded near miss beside a real record is discarded too */
	{ "near_miss_and_real", { "V=STSv1; id=1", "v=STSv1; id=2" }, .n = 2, .is_sts = 0,
	  .valid = true, .id = "2",
	  .f = { NOTE_W("1 other TXT record next to the MTA-STS record (\"V=STSv1; id=1\"") } },
	/* RFC 8461 3.1: more than one STS record means no policy */
	{ "multiple", { "v=STSv1; id=1", "v=STSv1; id=2" }, .n = 2, .is_sts = 1,
	  .f = { F(F_STS_TXT_MULTIPLE, SEV_CRITICAL,
		   "2 records at _mta-sts.example.org begin with \"v=STSv1;\" (\"v=STSv1; "
		   "id=1\", \"v=STSv1; id=2\"; RFC 8461 3.1: several v=STSv1 records mean no "
		   "policy)") } },
	/* RFC 8461 3.1: the WSP-before-';' form counts as an STS record too */
	{ "multiple_with_wsp_form", { "v=STSv1; id=1", "v=STSv1 ; id=2", "v=STSv1;id=3" },
	  .n = 3, .is_sts = 1,
	  .f = { F(F_STS_TXT_MULTIPLE, SEV_CRITICAL, "3 records at _mta-sts.example.org") } },
	/* RFC 8461 3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT): one character is enough */
	{ "id_one_char", { "v=STSv1; id=1" }, .is_sts = 1, .valid = true, .id = "1" },
	/* RFC 8461 3.1: sts-id is 1*32: 32 characters are allowed */
	{ "id_32", { "v=STSv1; id=abcdefghijklmnopqrstuvwxyz012345" }, .is_sts = 1,
	  .valid = true, .id = "abcdefghijklmnopqrstuvwxyz012345" },
	/* RFC 8461 3.1: sts-id is 1*32: 33 characters are not, most senders take them
	 * (txt.id_too_long) */
	{ "id_33", { "v=STSv1; id=abcdefghijklmnopqrstuvwxyz0123456" }, .is_sts = 1,
	  .valid = true, .id = "abcdefghijklmnopqrstuvwxyz0123456",
	  .f = { NOTE_W("id \"abcdefghijklmnopqrstuvwxyz0123456\" has more than 32 characters") } },
	/* this tool compares ids of at most STS_ID_MAX characters */
	{ "id_65", { "v=STSv1; id=abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"
		     "12" }, .is_sts = 1,
	  .f = { INVALID("has 65 characters (TXT record") } },
	/* RFC 8461 3.1: sts-id needs at least one character */
	{ "id_empty", { "v=STSv1; id=" }, .is_sts = 1, .f = { INVALID("the id is empty") } },
	/* RFC 8461 3.1: sts-id is letters and digits only; '-' is not, most senders take it
	 * (txt.id_non_alnum) */
	{ "id_hyphen", { "v=STSv1; id=2026-01-01" }, .is_sts = 1, .valid = true,
	  .id = "2026-01-01",
	  .f = { NOTE_W("id \"2026-01-01\" holds characters other than letters and digits (TXT "
			"record \"v=STSv1; id=2026-01-01\"; RFC 8461 3.1: sts-id = %s\"id=\" "
			"1*32(ALPHA / DIGIT)); " IGNORE "rejected by the RFC 8461 grammar, "
			"postfix-tlspol and mox") } },
	/* RFC 8461 3.1: sts-id is letters and digits only; '_' is not (as above) */
	{ "id_underscore", { "v=STSv1; id=abc_def" }, .is_sts = 1, .valid = true,
	  .id = "abc_def", .f = { NOTE_W("id \"abc_def\" holds characters other than") } },
	/* RFC 8461 3.1: a space inside the id breaks sts-id (no ';' before the next word) */
	{ "id_space", { "v=STSv1; id=abc def" }, .is_sts = 1,
	  .f = { INVALID("contains a space at position 4") } },
	/* RFC 8461 3.1: one id; with two, 3.2's rule takes the first, mox rejects the record
	 * and most take the last (txt.two_ids) */
	{ "id_twice", { "v=STSv1; id=a; id=b" }, .is_sts = 1, .valid = true, .id = "a",
	  .f = { NOTE_W("two id fields; this tool uses the first, \"b\" is ignored") } },
	/* RFC 8461 3.1: the id is required (1*(sts-sep sts-field) with no field) */
	{ "id_missing_no_field", { "v=STSv1;" }, .is_sts = 1,
	  .f = { INVALID("no id field after \"v=STSv1;\"") } },
	/* RFC 8461 3.1: the id is required, an extension does not replace it */
	{ "id_missing_ext_only", { "v=STSv1; foo=bar" }, .is_sts = 1,
	  .f = { INVALID("no id field (TXT record \"v=STSv1; foo=bar\"; RFC 8461 3.1: the id is "
			 "required)") } },
	/* RFC 8461 3.1: %s"id=" is case-sensitive; "ID=" is an extension */
	{ "id_upper", { "v=STSv1; ID=abc" }, .is_sts = 1,
	  .f = { INVALID("\"ID=\" is not \"id=\" (TXT record \"v=STSv1; ID=abc\"; the field name "
			 "is case-sensitive") } },
	/* RFC 8461 3.1: extensions are allowed and counted */
	{ "extension", { "v=STSv1; id=abc; ext=val" }, .is_sts = 1, .valid = true, .id = "abc",
	  .n_ext = 1 },
	/* RFC 8461 3.1: sts-ext-name allows '_', '-', '.' after the first; value %x21-7E */
	{ "extension_first", { "v=STSv1; foo_bar.baz-1=x!y~; id=abc" }, .is_sts = 1,
	  .valid = true, .id = "abc", .n_ext = 1 },
	/* RFC 8461 3.1: "v" after the version is just an extension name */
	{ "extension_named_v", { "v=STSv1; id=abc; v=STSv1" }, .is_sts = 1, .valid = true,
	  .id = "abc", .n_ext = 1 },
	/* RFC 8461 3.1: sts-ext-name starts with a letter or digit; most senders skip the
	 * field (txt.ext_bad_name) */
	{ "ext_name_underscore", { "v=STSv1; id=abc; _ext=1" }, .is_sts = 1, .valid = true,
	  .id = "abc", .n_ext = 1,
	  .f = { NOTE_W("field \"_ext=1\" does not have an extension name") } },
	/* RFC 8461 3.1: sts-ext-name has at most 32 characters (as above) */
	{ "ext_name_33", { "v=STSv1; id=abc; abcdefghijklmnopqrstuvwxyz0123456=1" },
	  .is_sts = 1, .valid = true, .id = "abc", .n_ext = 1,
	  .f = { NOTE_W("does not have an extension name") } },
	/* RFC 8461 3.1: sts-ext-value = 1*(...): not empty */
	{ "ext_value_empty", { "v=STSv1; id=abc; ext=" }, .is_sts = 1,
	  .f = { INVALID("field ext has an empty value") } },
	/* RFC 8461 3.1: sts-ext-value excludes '=' (%x3D); most senders skip the field
	 * (txt.ext_bad_value) */
	{ "ext_value_equals", { "v=STSv1; id=abc; ext=a=b" }, .is_sts = 1, .valid = true,
	  .id = "abc", .n_ext = 1,
	  .f = { NOTE_W("the value of field \"ext=a=b\" holds whitespace or '='") } },
	/* RFC 8461 3.1: sts-ext-value excludes space (as above) */
	{ "ext_value_space", { "v=STSv1; id=abc; ext=a b" }, .is_sts = 1, .valid = true,
	  .id = "abc", .n_ext = 1,
	  .f = { NOTE_W("the value of field \"ext=a b\" holds whitespace or '='") } },
	/* RFC 8461 3.1: sts-ext-value allows ':', mailauth loses the record
	 * (txt.ext_value_colon) */
	{ "ext_value_colon", { "v=STSv1; id=abc; ext=a:b" }, .is_sts = 1, .valid = true,
	  .id = "abc", .n_ext = 1,
	  .f = { NOTE_W("the value of field \"ext=a:b\" holds ':'") } },
	/* RFC 8461 3.1: a field follows every sts-sep, ";;" breaks the ABNF; most senders
	 * skip the empty field (txt.empty_field) */
	{ "empty_field", { "v=STSv1; id=abc;; ext=1" }, .is_sts = 1, .valid = true, .id = "abc",
	  .n_ext = 1, .f = { NOTE_W("empty field (';' followed by ';') at offset 16") } },
	/* ...also at the end, and several of them */
	{ "empty_fields_end", { "v=STSv1; id=abc;;;" }, .is_sts = 1, .valid = true, .id = "abc",
	  .f = { NOTE_W("empty field (';' followed by ';') at offset 16 and more") } },
	/* ...and with no field at all there is still no id */
	{ "only_empty_fields", { "v=STSv1;;" }, .is_sts = 1,
	  .f = { INVALID("no id field after \"v=STSv1;\"") } },
	/* RFC 8461 3.1: fields are name=value */
	{ "field_without_equals", { "v=STSv1; id=abc; noequals" }, .is_sts = 1,
	  .f = { INVALID("field \"noequals\" has no '='") } },
	/* RFC 8461 3.1: the record is ASCII; NUL bytes are invalid (joined strings) */
	{ "nul_byte", { "v=STSv1; id=abc\0def" }, .lens = { 19 }, .is_sts = 1,
	  .f = { INVALID("NUL byte at offset 15") } },
	/* RFC 8461 3.1: control characters are not VCHAR or WSP */
	{ "control_byte", { "v=STSv1; id=abc\x01" }, .is_sts = 1,
	  .f = { INVALID("control byte 0x01 at offset 15") } },
	/* RFC 8461 3.1: non-ASCII bytes are invalid */
	{ "non_ascii", { "v=STSv1; id=abc\xc3\xa9" }, .is_sts = 1,
	  .f = { INVALID("non-ASCII byte 0xc3 at offset 15") } },
	/* RFC 8461 3.1 sets no length; DNS carries 65535 bytes at most (lint input only) */
	{ "too_long", { long_record }, .is_sts = 1,
	  .f = { INVALID("a DNS TXT record carries at most 65535 bytes)") } },
	/* RFC 8461 3.1: sts_txt_parse called on a record that is no STS record */
	{ "direct_not_sts", { "v=spf1 -all" }, .direct = true, .is_sts = 0,
	  .f = { INVALID("does not begin with \"v=STSv1;\"") } },
	/* RFC 8461 3.1: sts_txt_parse names the near miss as well */
	{ "direct_near_miss", { "V=STSv1; id=1" }, .direct = true, .is_sts = 0,
	  .f = { INVALID("\"v=STSv1\" is case-sensitive") } },
	/* RFC 8461 3.1: the invalid message says what senders do */
	{ "invalid_consequence", { "v=STSv1; id=a b" }, .direct = true, .is_sts = 1,
	  .f = { INVALID("compliant senders treat the domain as having no MTA-STS policy") } },
	/* RFC 8461 3.1: a version field later in the record is not its start
	 * (txt.version_not_first): maddy and Stalwart accept the record */
	{ "version_not_first", { "id=abc; v=STSv1" }, .is_sts = 0,
	  .f = { MISSING("\"id=abc; v=STSv1\" holds \"v=STSv1\" but does not begin with it") } },
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
	struct sts_txt out;
	int rc;

	for (size_t i = 0; i < MAX_RECS; i++)
		lens[i] = r->lens[i] ? r->lens[i] : r->recs[i] ? strlen(r->recs[i]) : 0;
	if (r->is_sts >= 0 && r->recs[0])
		assert_int_equal(sts_txt_is_sts(r->recs[0], lens[0]), r->is_sts);
	findings_init(&fs);
	memset(&out, 0x5a, sizeof(out));	/* the parser must initialise everything */
	if (r->direct)
		rc = sts_txt_parse(r->recs[0], lens[0], &out, &fs, SUBJECT);
	else
		rc = sts_txt_select(r->recs, lens, n, &out, &fs, SUBJECT);
	check_findings(&fs, r->f);
	assert_int_equal(out.valid, r->valid);
	assert_int_equal(rc, r->valid ? 0 : -1);
	if (r->valid) {
		assert_string_equal(out.id, r->id);
		assert_int_equal(out.n_ext, r->n_ext);
	} else {
		assert_string_equal(out.id, "");
	}
	findings_free(&fs);
}

static int setup_long(void **state)
{
	(void)state;
	memset(long_record, 'a', sizeof(long_record) - 1);
	memcpy(long_record, "v=STSv1; id=abc; x=", 19);
	long_record[STS_TXT_MAX + 1] = '\0';
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(rows)];
	int rc;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = run_row;
		tests[i].setup_func = NULL;
		tests[i].teardown_func = NULL;
		tests[i].initial_state = (void *)&rows[i];
	}
	rc = _cmocka_run_group_tests("sts_txt", tests, ARRAY_LEN(rows), setup_long, NULL);
	return rc;
}
