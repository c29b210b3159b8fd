/* sts_txt: the MTA-STS TXT record at _mta-sts.DOMAIN, parsed as RFC 8461 section 3.1 says. */
#include "sts_txt.h"

#include <string.h>

#include "abnf.h"
#include "senders.h"
#include "tagrec.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"

#define ID_MAX 32

/* What compliant senders do with an invalid record, and with none. */
#define CONSEQ_INVALID "compliant senders treat the domain as having no MTA-STS policy " \
	"(RFC 8461 3.1)"

static const struct tagrec_syntax sts_syntax = {
	.version = "v=STSv1",
	.rfc = "RFC 8461 3.1",
	.rule = "sts",
	.shorten_fix = "shorten the record to \"v=STSv1; id=...\"",
	.non_ascii_fix = "retype the record in plain ASCII (editors and web forms sometimes "
			 "insert typographic characters)",
	.skip_empty = true,	/* most senders skip an empty field (txt.empty_field) */
};

bool sts_txt_is_sts(const char *rec, size_t len)
{
	return tagrec_prefix(&sts_syntax, rec, len, NULL) > 0;
}

/* What the lenient reading found: each a note where senders read the record differently. */
struct txt_notes {
	bool id_odd, id_long, two_ids, ext_name, ext_value, ext_colon;
	char id_shown[TAGREC_SHOW_BUF], second_id[TAGREC_SHOW_BUF];
	char ext_name_shown[TAGREC_SHOW_BUF], ext_value_shown[TAGREC_SHOW_BUF];
	char ext_colon_shown[TAGREC_SHOW_BUF];
};

/* The first break of the record, with the checks/senders.h row it belongs to. */
static void fail_rule(struct tagrec *t, enum sender_rule sr, const char *rule, const char *fix,
		      const char *what)
{
	if (tagrec_failed(t))
		return;
	tagrec_fail(t, rule, fix, "%s", what);
	t->err.sender_rule = (unsigned)sr;
}

/*
 * RFC 8461 3.1 sts-id = %s"id=" 1*32(ALPHA / DIGIT). Most senders take any id (the
 * profile rows txt.id_non_alnum, txt.id_too_long): this tool reads an id of printable
 * characters without spaces, up to STS_ID_MAX, and notes it; an empty id breaks the record.
 */
static void check_id(struct tagrec *t, const char *v, size_t n, struct txt_notes *nt)
{
	char sv[TAGREC_SHOW_BUF], what[TAGREC_SHOW_BUF + 64];
	static const char fix[] = "use 1 to 32 letters and digits, e.g. a timestamp such as "
				  "20260101T000000";

	tagrec_show(sv, sizeof(sv), v, n);
	if (n == 0) {
		fail_rule(t, SR_TXT_ID_EMPTY, "RFC 8461 3.1: sts-id = \"id=\" 1*32(ALPHA / DIGIT)",
			  fix, "the id is empty");
		return;
	}
	if (n > STS_ID_MAX) {
		char rule[128];

		bsnprintf(rule, sizeof(rule), "RFC 8461 3.1 allows at most 32: 1*32(ALPHA / DIGIT), "
			  "and this tool compares ids of at most %d characters", STS_ID_MAX);
		tagrec_fail(t, rule, fix, "id \"%s\" has %zu characters", sv, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		char sc[8], quoted[16];

		if (abnf_is_alnum(c))
			continue;
		if (c > 0x20 && c < 0x7f) {
			nt->id_odd = true;
			continue;
		}
		printable_copy(sc, sizeof(sc), v + i, 1);
		if (c == ' ' || c == '\t')
			bsnprintf(quoted, sizeof(quoted), c == ' ' ? "a space" : "a tab");
		else
			bsnprintf(quoted, sizeof(quoted), "'%s'", sc);
		bsnprintf(what, sizeof(what), "id \"%s\" contains %s at position %zu", sv, quoted,
			  i + 1);
		tagrec_fail(t, "RFC 8461 3.1 allows only letters and digits, 1*32(ALPHA / DIGIT)",
			    fix, "%s", what);
		return;
	}
	nt->id_long = n > ID_MAX;
	bsnprintf(nt->id_shown, sizeof(nt->id_shown), "%s", sv);
}

/*
 * An extension field as senders read it: most skip any field they do not know, so a bad
 * name or a value with spaces or '=' (the rows txt.ext_bad_name, txt.ext_bad_value) is a
 * note; a value with ':' is valid but mailauth loses the record (txt.ext_value_colon).
 */
static void check_ext(struct tagrec *t, const struct tagrec_field *f, struct txt_notes *nt)
{
	char sf[TAGREC_SHOW_BUF];

	tagrec_show(sf, sizeof(sf), f->name, f->value_len + (size_t)(f->value - f->name));
	if (!abnf_ext_name_valid(f->name, f->name_len)) {
		if (!nt->ext_name)
			bsnprintf(nt->ext_name_shown, sizeof(nt->ext_name_shown), "%s", sf);
		nt->ext_name = true;
		return;
	}
	for (size_t i = 0; i < f->value_len; i++)
		if (f->value[i] == '=' || abnf_is_wsp(f->value[i])) {
			if (!nt->ext_value)
				bsnprintf(nt->ext_value_shown, sizeof(nt->ext_value_shown), "%s",
					  sf);
			nt->ext_value = true;
			return;
		}
	tagrec_check_ext(t, f);
	if (!tagrec_failed(t) && memchr(f->value, ':', f->value_len)) {
		if (!nt->ext_colon)
			bsnprintf(nt->ext_colon_shown, sizeof(nt->ext_colon_shown), "%s", sf);
		nt->ext_colon = true;
	}
}

/* Read the fields: the first id counts, extensions checked. */
static void parse_fields(struct tagrec *t, struct sts_txt *out, struct txt_notes *nt)
{
	struct tagrec_field f;
	bool have_id = false, id_case = false;
	char id_variant[3] = "", what[64];

	while (tagrec_next(t, &f) > 0) {
		if (f.name_len == 2 && memcmp(f.name, "id", 2) == 0) {
			if (have_id) {
				/* RFC 8461 3.2: a repeated field, all but the first ignored */
				if (!nt->two_ids)
					tagrec_show(nt->second_id, sizeof(nt->second_id), f.value,
						    f.value_len);
				nt->two_ids = true;
				continue;
			}
			have_id = true;
			check_id(t, f.value, f.value_len, nt);
			if (tagrec_failed(t))
				return;
			memcpy(out->id, f.value, f.value_len);
			out->id[f.value_len] = '\0';
			continue;
		}
		if (f.name_len == 2 && (f.name[0] | 0x20) == 'i' && (f.name[1] | 0x20) == 'd' &&
		    !id_case) {
			id_case = true;
			memcpy(id_variant, f.name, 2);
		}
		check_ext(t, &f, nt);
		if (tagrec_failed(t))
			return;
		out->n_ext++;
	}
	if (tagrec_failed(t) || have_id)
		return;
	/* RFC 8461 3.1: "id: (plain-text, required)" */
	if (id_case) {
		bsnprintf(what, sizeof(what), "no id field: \"%s=\" is not \"id=\"", id_variant);
		fail_rule(t, SR_TXT_ID_KEY_CASE, "the field name is case-sensitive, %s in RFC 8461 "
			  "3.1; the id is required", "write the field name as lower-case \"id=\"",
			  what);
	} else {
		fail_rule(t, SR_TXT_ID_MISSING, "RFC 8461 3.1: the id is required",
			  "add \"id=\" with 1 to 32 letters and digits, e.g. "
			  "\"v=STSv1; id=20260101T000000\"", t->n_fields ? "no id field" :
			  "no id field after \"v=STSv1;\"");
	}
}

static void note(struct findings *fs, const char *subject, enum sender_rule rule,
		 const char *shown, const char *what, const char *rfc, const char *fix)
{
	struct finding_occurrence *fo = senders_add(fs, F_STS_TXT_NOTE, SEV_INFO, subject, rule);

	finding_set_what(fo, "%s", what);
	finding_set_evidence(fo, "TXT record \"%s\"; %s", shown, rfc);
	finding_set_fix(fo, "%s", fix);
}

/* The notes of a record read leniently, each with its sender-profile row. */
static void txt_notes(const struct tagrec *t, const struct txt_notes *nt, const char *shown,
		      struct findings *fs, const char *subject)
{
	char what[TAGREC_SHOW_BUF * 2 + 96];

	if (t->trailing_wsp)
		note(fs, subject, SR_TXT_TRAILING_WS, shown,
		     "the TXT record ends in whitespace without a final ';'",
		     "RFC 8461 3.1: whitespace only around a ';' (sts-field-delim)",
		     "remove the trailing whitespace");
	if (t->n_empty) {
		bsnprintf(what, sizeof(what), "empty field (';' followed by ';') at offset %zu%s",
			  t->first_empty, t->n_empty > 1 ? " and more" : "");
		note(fs, subject, SR_TXT_EMPTY_FIELD, shown, what,
		     "RFC 8461 3.1: a field after every ';' but the last", "remove the extra ';'");
	}
	if (nt->id_odd) {
		bsnprintf(what, sizeof(what), "id \"%s\" holds characters other than letters and "
			  "digits", nt->id_shown);
		note(fs, subject, SR_TXT_ID_NON_ALNUM, shown, what,
		     "RFC 8461 3.1: sts-id = %s\"id=\" 1*32(ALPHA / DIGIT)",
		     "use 1 to 32 letters and digits, e.g. a timestamp such as 20260101T000000");
	}
	if (nt->id_long) {
		bsnprintf(what, sizeof(what), "id \"%s\" has more than %d characters", nt->id_shown,
			  ID_MAX);
		note(fs, subject, SR_TXT_ID_TOO_LONG, shown, what,
		     "RFC 8461 3.1: sts-id = %s\"id=\" 1*32(ALPHA / DIGIT)",
		     "use 1 to 32 letters and digits, e.g. a timestamp such as 20260101T000000");
	}
	if (nt->two_ids) {
		bsnprintf(what, sizeof(what), "two id fields; this tool uses the first, \"%s\" is "
			  "ignored", nt->second_id);
		note(fs, subject, SR_TXT_TWO_IDS, shown, what,
		     "RFC 8461 3.1 defines one id; 3.2: of repeated fields the first counts",
		     "keep exactly one id field");
	}
	if (nt->ext_name) {
		bsnprintf(what, sizeof(what), "field \"%s\" does not have an extension name",
			  nt->ext_name_shown);
		note(fs, subject, SR_TXT_EXT_BAD_NAME, shown, what,
		     "RFC 8461 3.1 sts-ext-name: a letter or digit, then up to 31 letters, digits, "
		     "'_', '-' or '.'", "correct or remove the field");
	}
	if (nt->ext_value) {
		bsnprintf(what, sizeof(what), "the value of field \"%s\" holds whitespace or '='",
			  nt->ext_value_shown);
		note(fs, subject, SR_TXT_EXT_BAD_VALUE, shown, what,
		     "RFC 8461 3.1 sts-ext-value: printable ASCII without space, ';' or '='",
		     "correct or remove the field");
	}
	if (nt->ext_colon) {
		bsnprintf(what, sizeof(what), "the value of field \"%s\" holds ':'",
			  nt->ext_colon_shown);
		note(fs, subject, SR_TXT_EXT_VALUE_COLON, shown, what,
		     "RFC 8461 3.1 sts-ext-value allows it", "remove the field or the ':'");
	}
}

int sts_txt_parse(const char *rec, size_t len, struct sts_txt *out, struct findings *fs,
		  const char *subject)
{
	struct finding_occurrence *fo;
	struct txt_notes nt;
	struct tagrec t;
	char shown[TAGREC_SHOW_BUF];

	memset(out, 0, sizeof(*out));
	memset(&nt, 0, sizeof(nt));
	if (!rec)
		len = 0;
	tagrec_show(shown, sizeof(shown), rec ? rec : "", len);
	if (tagrec_open(&t, &sts_syntax, rec, len, STS_TXT_MAX) == 0)
		parse_fields(&t, out, &nt);
	if (tagrec_failed(&t)) {
		out->id[0] = '\0';
		if (t.err.sender_rule) {
			fo = senders_add(fs, F_STS_TXT_INVALID, SEV_CRITICAL, subject,
					 (enum sender_rule)t.err.sender_rule);
		} else {
			fo = findings_add(fs, F_STS_TXT_INVALID, SEV_CRITICAL, subject);
			finding_set_consequence(fo, CONSEQ_INVALID);
		}
		finding_set_what(fo, "%s", t.err.what);
		finding_set_evidence(fo, "TXT record \"%s\"%s%s", shown, t.err.rule[0] ? "; " : "",
				     t.err.rule);
		finding_set_fix(fo, "%s", t.err.fix);
	} else {
		out->valid = true;
	}
	if (t.wsp_before_sep)
		note(fs, subject, SR_TXT_WS_BEFORE_SEMI, shown,
		     "whitespace before the first ';' of the TXT record",
		     "RFC 8461 3.1: sts-field-delim = *WSP \";\" *WSP, but records that do not "
		     "begin with \"v=STSv1;\" are discarded", "write \"v=STSv1;\"");
	if (out->valid)
		txt_notes(&t, &nt, shown, fs, subject);
	return out->valid ? 0 : -1;
}

/*
 * "id=x; v=STSv1": the version is a field of the record but not its start (the row
 * txt.version_not_first). Only records that do not begin with it are asked.
 */
static bool version_later(const char *rec, size_t len)
{
	static const char v[] = "v=STSv1";
	size_t vl = sizeof(v) - 1;

	for (size_t i = 0; i + vl <= len; i++) {
		size_t k = i;

		if (rec[i] != ';')
			continue;
		k++;
		while (k < len && abnf_is_wsp(rec[k]))
			k++;
		if (len - k >= vl && memcmp(rec + k, v, vl) == 0 &&
		    (k + vl == len || rec[k + vl] == ';' || abnf_is_wsp(rec[k + vl])))
			return true;
	}
	return false;
}

/* "v=stsv1; id=x", "V=STSv1; id=x": the version in another case (txt.version_case). */
static bool version_case(const char *rec, size_t len)
{
	return len > 7 && abnf_same_ci(rec, "v=STSv1", 7) && memcmp(rec, "v=STSv1", 7) != 0 &&
	       (rec[7] == ';' || abnf_is_wsp(rec[7]));
}

static void txt_missing(const char *const *recs, const size_t *lens, size_t n, size_t near,
			const char *why, struct findings *fs, const char *subject)
{
	struct finding_occurrence *fo;
	char shown[TAGREC_SHOW_BUF];
	size_t later = n, cased = n;

	for (size_t i = 0; i < n; i++) {
		if (!recs[i])
			continue;
		if (later == n && version_later(recs[i], lens[i]))
			later = i;
		if (cased == n && version_case(recs[i], lens[i]))
			cased = i;
	}
	if (cased < n) {
		tagrec_show(shown, sizeof(shown), recs[cased], lens[cased]);
		fo = senders_add(fs, F_STS_TXT_MISSING, SEV_CRITICAL, subject, SR_TXT_VERSION_CASE);
		finding_set_what(fo, "no MTA-STS record at %s: \"%s\" comes close but \"v=STSv1\" is "
				 "case-sensitive (%%s in the RFC 8461 3.1 ABNF)", subject, shown);
		finding_set_evidence(fo, "RFC 8461 3.1 discards records that do not begin with "
				     "\"v=STSv1;\"");
		finding_set_fix(fo, "begin the record with exactly \"v=STSv1;\"");
	} else if (later < n) {
		tagrec_show(shown, sizeof(shown), recs[later], lens[later]);
		fo = senders_add(fs, F_STS_TXT_MISSING, SEV_CRITICAL, subject,
				 SR_TXT_VERSION_NOT_FIRST);
		finding_set_what(fo, "no MTA-STS record at %s: \"%s\" holds \"v=STSv1\" but does not "
				 "begin with it", subject, shown);
		finding_set_evidence(fo, "RFC 8461 3.1 discards records that do not begin with "
				     "\"v=STSv1;\"");
		finding_set_fix(fo, "put \"v=STSv1;\" first: \"v=STSv1; id=...\"");
	} else if (near < n) {
		fo = findings_add(fs, F_STS_TXT_MISSING, SEV_CRITICAL, subject);
		tagrec_show(shown, sizeof(shown), recs[near], lens[near]);
		finding_set_what(fo, "no MTA-STS record at %s: \"%s\" comes close but %s",
				 subject, shown, why);
		finding_set_evidence(fo, "RFC 8461 3.1 discards such records");
		finding_set_consequence(fo, "senders see no MTA-STS policy");
		finding_set_fix(fo, "begin the record with exactly \"v=STSv1;\"");
	} else {
		fo = findings_add(fs, F_STS_TXT_MISSING, SEV_CRITICAL, subject);
		finding_set_what(fo, "no MTA-STS record at %s", subject);
		finding_set_evidence(fo, "%zu TXT record%s, none begins with \"v=STSv1;\"", n,
				     n == 1 ? "" : "s");
		finding_set_consequence(fo, "senders see no MTA-STS policy and deliver without it");
		finding_set_fix(fo, "publish \"v=STSv1; id=20260101T000000\"");
	}
}

int sts_txt_select(const char *const *recs, const size_t *lens, size_t n, struct sts_txt *out,
		   struct findings *fs, const char *subject)
{
	struct finding_occurrence *fo;
	size_t count = 0, first = 0, near = n, other = n;
	char why[128] = "", shown[TAGREC_SHOW_BUF];
	struct dynbuf sb;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	dynbuf_init(&sb, 1024);
	for (size_t i = 0; i < n; i++) {
		if (recs[i] && sts_txt_is_sts(recs[i], lens[i])) {
			if (count++ == 0)
				first = i;
			if (count <= 3) {
				tagrec_show(shown, sizeof(shown), recs[i], lens[i]);
				dynbuf_printf(&sb, "%s\"%s\"", count > 1 ? ", " : "", shown);
			}
			continue;
		}
		if (other == n)
			other = i;
		if (near == n && tagrec_near_miss(&sts_syntax, recs[i], lens[i], why, sizeof(why)))
			near = i;
	}
	if (count == 0) {
		txt_missing(recs, lens, n, near, why, fs, subject);
		goto out;
	}
	if (count > 1) {
		fo = findings_add(fs, F_STS_TXT_MULTIPLE, SEV_CRITICAL, subject);
		finding_set_what(fo, "%zu records at %s begin with \"v=STSv1;\"", count, subject);
		finding_set_evidence(fo, "%s%s; RFC 8461 3.1: several v=STSv1 records mean no "
				     "policy", sb.buf ? sb.buf : "", count > 3 ? ", ..." : "");
		finding_set_consequence(fo, "senders must treat the domain as having no MTA-STS "
					"policy");
		finding_set_fix(fo, "keep exactly one");
		goto out;
	}
	rc = sts_txt_parse(recs[first], lens[first], out, fs, subject);
	if (other < n) {
		/* RFC 8461 3.1 discards the others before counting; maddy counts them */
		tagrec_show(shown, sizeof(shown), recs[other] ? recs[other] : "",
			    recs[other] ? lens[other] : 0);
		fo = senders_add(fs, F_STS_TXT_NOTE, SEV_INFO, subject, SR_TXT_UNRELATED_RECORD);
		finding_set_what(fo, "%zu other TXT record%s next to the MTA-STS record", n - 1,
				 n == 2 ? "" : "s");
		finding_set_evidence(fo, "\"%s\"%s; RFC 8461 3.1 discards records that do not "
				     "begin with \"v=STSv1;\"", shown, n > 2 ? ", ..." : "");
		finding_set_fix(fo, "keep only the MTA-STS record at %s", subject);
	}
out:
	dynbuf_free(&sb);
	return rc;
}
