/* sts_txt: the MTA-STS TXT record at _mta-sts.DOMAIN, parsed as RFC 8461 section 3.1 says. */
#include "sts_txt.h"

#include <string.h>

#include "abnf.h"
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
};

bool sts_txt_is_sts(const char *rec, size_t len)
{
	return tagrec_prefix(&sts_syntax, rec, len, NULL) > 0;
}

/* RFC 8461 3.1 sts-id = %s"id=" 1*32(ALPHA / DIGIT). */
static void check_id(struct tagrec *t, const char *v, size_t n)
{
	char sv[TAGREC_SHOW_BUF];
	static const char fix[] = "use 1 to 32 letters and digits, e.g. a timestamp such as "
				  "20260101T000000";

	tagrec_show(sv, sizeof(sv), v, n);
	if (n == 0) {
		tagrec_fail(t, "RFC 8461 3.1: sts-id = \"id=\" 1*32(ALPHA / DIGIT)", fix,
			    "the id is empty");
		return;
	}
	if (n > ID_MAX) {
		tagrec_fail(t, "RFC 8461 3.1 allows at most 32: 1*32(ALPHA / DIGIT)", fix,
			    "id \"%s\" has %zu characters", sv, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		char sc[8], quoted[16];

		if (abnf_is_alnum(c))
			continue;
		printable_copy(sc, sizeof(sc), v + i, 1);
		if (c == ' ')
			bsnprintf(quoted, sizeof(quoted), "a space");
		else
			bsnprintf(quoted, sizeof(quoted), "'%s'", sc);
		tagrec_fail(t, "RFC 8461 3.1 allows only letters and digits, 1*32(ALPHA / DIGIT); "
			    "some senders accept other characters, strict ones reject the record",
			    fix, "id \"%s\" contains %s at position %zu", sv, quoted, i + 1);
		return;
	}
}

/* Read the fields: the id once, extensions checked. */
static void parse_fields(struct tagrec *t, struct sts_txt *out)
{
	struct tagrec_field f;
	char first_id[TAGREC_SHOW_BUF] = "";
	bool have_id = false, id_case = false;
	char id_variant[3] = "";

	while (tagrec_next(t, &f) > 0) {
		if (f.name_len == 2 && memcmp(f.name, "id", 2) == 0) {
			char sv[TAGREC_SHOW_BUF];

			tagrec_show(sv, sizeof(sv), f.value, f.value_len);
			if (have_id) {
				tagrec_fail(t, "RFC 8461 3.1 defines one id and no rule to choose, "
					    "so senders may take either or reject the record",
					    "keep exactly one id field",
					    "two id fields (\"%s\" and \"%s\")", first_id, sv);
				return;
			}
			have_id = true;
			bsnprintf(first_id, sizeof(first_id), "%s", sv);
			check_id(t, f.value, f.value_len);
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
		tagrec_check_ext(t, &f);
		if (tagrec_failed(t))
			return;
		out->n_ext++;
	}
	if (tagrec_failed(t) || have_id)
		return;
	/* RFC 8461 3.1: "id: (plain-text, required)" */
	if (id_case)
		tagrec_fail(t, "the field name is case-sensitive, %s in RFC 8461 3.1; the id is "
			    "required", "write the field name as lower-case \"id=\"",
			    "no id field: \"%s=\" is not \"id=\"", id_variant);
	else
		tagrec_fail(t, "RFC 8461 3.1: the id is required",
			    "add \"id=\" with 1 to 32 letters and digits, e.g. "
			    "\"v=STSv1; id=20260101T000000\"",
			    "no id field%s", t->n_fields ? "" : " after \"v=STSv1;\"");
}

int sts_txt_parse(const char *rec, size_t len, struct sts_txt *out, struct findings *fs,
		  const char *subject)
{
	struct finding_occurrence *fo;
	struct tagrec t;
	char shown[TAGREC_SHOW_BUF];

	memset(out, 0, sizeof(*out));
	if (!rec)
		len = 0;
	tagrec_show(shown, sizeof(shown), rec ? rec : "", len);
	if (tagrec_open(&t, &sts_syntax, rec, len, STS_TXT_MAX) == 0)
		parse_fields(&t, out);
	if (tagrec_failed(&t)) {
		out->id[0] = '\0';
		fo = findings_add(fs, F_STS_TXT_INVALID, SEV_CRITICAL, subject);
		finding_set_what(fo, "%s", t.err.what);
		finding_set_evidence(fo, "TXT record \"%s\"%s%s", shown, t.err.rule[0] ? "; " : "",
				     t.err.rule);
		finding_set_consequence(fo, CONSEQ_INVALID);
		finding_set_fix(fo, "%s", t.err.fix);
	} else {
		out->valid = true;
	}
	if (t.wsp_before_sep) {
		fo = findings_add(fs, F_STS_TXT_NOTE, SEV_INFO, subject);
		finding_set_what(fo, "whitespace before the first ';' of the TXT record");
		finding_set_evidence(fo, "TXT record \"%s\"", shown);
		finding_set_consequence(fo, "the ABNF (sts-sep = *WSP \";\" *WSP, RFC 8461 3.1) "
					"allows it and this tool counts the record, but the RFC "
					"text discards records not beginning with \"v=STSv1;\" and "
					"senders that match that literal prefix ignore it");
		finding_set_fix(fo, "write \"v=STSv1;\"");
	}
	if (t.trailing_wsp && out->valid) {
		fo = findings_add(fs, F_STS_TXT_NOTE, SEV_INFO, subject);
		finding_set_what(fo, "the TXT record ends in whitespace without a final ';'");
		finding_set_evidence(fo, "TXT record \"%s\"", shown);
		finding_set_consequence(fo, "the strict ABNF (RFC 8461 3.1) rejects it; this tool "
					"treats it as valid because every common sender trims it");
		finding_set_fix(fo, "remove the trailing whitespace");
	}
	return out->valid ? 0 : -1;
}

int sts_txt_select(const char *const *recs, const size_t *lens, size_t n, struct sts_txt *out,
		   struct findings *fs, const char *subject)
{
	struct finding_occurrence *fo;
	size_t count = 0, first = 0, near = n;
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
		} else if (near == n && tagrec_near_miss(&sts_syntax, recs[i], lens[i], why,
							 sizeof(why))) {
			near = i;
		}
	}
	if (count == 0) {
		fo = findings_add(fs, F_STS_TXT_MISSING, SEV_CRITICAL, subject);
		if (near < n) {
			tagrec_show(shown, sizeof(shown), recs[near], lens[near]);
			finding_set_what(fo, "no MTA-STS record at %s: \"%s\" comes close but %s",
					 subject, shown, why);
			finding_set_evidence(fo, "RFC 8461 3.1 discards such records");
			finding_set_consequence(fo, "senders see no MTA-STS policy");
			finding_set_fix(fo, "begin the record with exactly \"v=STSv1;\"");
		} else {
			finding_set_what(fo, "no MTA-STS record at %s", subject);
			finding_set_evidence(fo, "%zu TXT record%s, none begins with \"v=STSv1;\"", n,
					     n == 1 ? "" : "s");
			finding_set_consequence(fo, "senders see no MTA-STS policy and deliver "
						"without it");
			finding_set_fix(fo, "publish \"v=STSv1; id=20260101T000000\"");
		}
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
out:
	dynbuf_free(&sb);
	return rc;
}
