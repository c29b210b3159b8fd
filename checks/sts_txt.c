/* sts_txt: the MTA-STS TXT record at _mta-sts.DOMAIN, parsed as RFC 8461 section 3.1 says. */
#include "sts_txt.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VERSION_TAG "v=STSv1"
#define VERSION_LEN 7
#define ID_MAX 32
#define EXT_NAME_MAX 32
#define SHOW_LEN 96	/* bytes of a record quoted in a message */
#define SHOW_BUF (SHOW_LEN * 4 + 4)

/* What went wrong with one record: the rule broken and how to fix it. */
struct txt_error {
	char what[640];
	char fix[200];
};

static void set_error(struct txt_error *e, const char *fix, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void set_error(struct txt_error *e, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (e->what[0])
		return;	/* the first error is the one reported */
	va_start(ap, fmt);
	if (vsnprintf(e->what, sizeof(e->what), fmt, ap) < 0)
		bsnprintf(e->what, sizeof(e->what), "unprintable error");
	va_end(ap);
	bsnprintf(e->fix, sizeof(e->fix), "%s", fix);
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Untrusted bytes made printable and bounded, with "..." when cut. */
static void show(char *dst, size_t dstlen, const char *s, size_t n)
{
	printable_copy(dst, dstlen, s, n < SHOW_LEN ? n : SHOW_LEN);
	if ((n > SHOW_LEN || memchr(s, '\0', n < SHOW_LEN ? n : SHOW_LEN)) &&
	    strlen(dst) + 4 < dstlen)
		strcat(dst, "...");
}

/*
 * Length of the prefix "v=STSv1" *WSP ";" or 0. RFC 8461 3.1 discards records that do not
 * begin with "v=STSv1;", but its ABNF (sts-sep = *WSP %x3B *WSP) also lets WSP stand before
 * the ';'; such a record counts here and sts_txt_parse notes it (*wsp tells).
 */
static size_t sts_prefix(const char *rec, size_t len, bool *wsp)
{
	size_t i = VERSION_LEN;

	if (!rec || len < VERSION_LEN + 1 || memcmp(rec, VERSION_TAG, VERSION_LEN) != 0)
		return 0;
	while (i < len && is_wsp(rec[i]))
		i++;
	if (i == len || rec[i] != ';')
		return 0;
	if (wsp)
		*wsp = i > VERSION_LEN;
	return i + 1;
}

bool sts_txt_is_sts(const char *rec, size_t len)
{
	return sts_prefix(rec, len, NULL) > 0;
}

/*
 * A record a human meant as an STS record that senders discard: leading whitespace, the
 * wrong case (%s"v=STSv1" is case-sensitive) or no ';' after the version.
 */
static bool near_miss(const char *rec, size_t len, char *why, size_t whylen)
{
	size_t i = 0;

	if (!rec || sts_txt_is_sts(rec, len))
		return false;
	while (i < len && is_wsp(rec[i]))
		i++;
	if (len - i < VERSION_LEN)
		return false;
	for (size_t k = 0; k < VERSION_LEN; k++) {
		unsigned char a = (unsigned char)rec[i + k], b = (unsigned char)VERSION_TAG[k];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + 32);
		if (a != b)
			return false;
	}
	if (i > 0)
		bsnprintf(why, whylen, "it begins with whitespace");
	else if (memcmp(rec, VERSION_TAG, VERSION_LEN) != 0)
		bsnprintf(why, whylen, "\"v=STSv1\" is case-sensitive (%%s in the RFC 8461 3.1 "
			  "ABNF)");
	else
		bsnprintf(why, whylen, "\"v=STSv1\" is not followed by ';'");
	return true;
}

/* RFC 8461 3.1 sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
static bool ext_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > EXT_NAME_MAX || !is_alnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

/* RFC 8461 3.1 sts-id = %s"id=" 1*32(ALPHA / DIGIT). */
static void check_id(const char *v, size_t n, struct txt_error *e)
{
	char sv[SHOW_BUF];
	static const char fix[] = "use 1 to 32 letters and digits, e.g. a timestamp such as "
				  "20260101T000000";

	show(sv, sizeof(sv), v, n);
	if (n == 0) {
		set_error(e, fix, "the id is empty (RFC 8461 3.1: sts-id = \"id=\" "
			  "1*32(ALPHA / DIGIT))");
		return;
	}
	if (n > ID_MAX) {
		set_error(e, fix, "id \"%s\" has %zu characters; RFC 8461 3.1 allows at most %d "
			  "(1*32(ALPHA / DIGIT))", sv, n, ID_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		char sc[8], quoted[16];

		if (is_alnum(c))
			continue;
		printable_copy(sc, sizeof(sc), v + i, 1);
		if (c == ' ')
			bsnprintf(quoted, sizeof(quoted), "a space");
		else
			bsnprintf(quoted, sizeof(quoted), "'%s'", sc);
		set_error(e, fix, "id \"%s\" contains %s at position %zu; RFC 8461 3.1 allows "
			  "only letters and digits (1*32(ALPHA / DIGIT)); some senders accept "
			  "other characters, strict ones reject the record", sv, quoted, i + 1);
		return;
	}
}

/* RFC 8461 3.1 sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): no ';', '=' or space. */
static void check_ext(const char *name, size_t nn, const char *v, size_t n, struct txt_error *e)
{
	char sn[SHOW_BUF];

	show(sn, sizeof(sn), name, nn);
	if (!ext_name_valid(name, nn)) {
		set_error(e, "correct or remove the field",
			  "field name \"%s\" is not an extension name (RFC 8461 3.1 sts-ext-name: "
			  "a letter or digit, then up to 31 letters, digits, '_', '-' or '.')", sn);
		return;
	}
	if (n == 0) {
		set_error(e, "give the field a value or remove it",
			  "field %s has an empty value (RFC 8461 3.1: sts-ext-value needs at least "
			  "one character)", sn);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c > 0x20 && c < 0x7f && c != '=')
			continue;
		set_error(e, "correct or remove the field",
			  "the value of field %s holds %s at position %zu; sts-ext-value "
			  "(RFC 8461 3.1) is printable ASCII without space, ';' or '='", sn,
			  c == '=' ? "'='" : is_wsp((char)c) ? "whitespace" : "a control byte",
			  i + 1);
		return;
	}
}

/* Reject NUL, control and non-ASCII bytes: the ABNF is printable ASCII and WSP only. */
static void check_bytes(const char *rec, size_t len, struct txt_error *e)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rec[i];

		if (c == '\t' || (c >= 0x20 && c < 0x7f))
			continue;
		if (c == 0)
			set_error(e, "publish the record as plain ASCII text",
				  "NUL byte at offset %zu; the record is printable ASCII only "
				  "(RFC 8461 3.1)", i);
		else if (c < 0x80)
			set_error(e, "publish the record as plain ASCII text",
				  "control byte 0x%02x at offset %zu; the record is printable "
				  "ASCII only (RFC 8461 3.1)", c, i);
		else
			set_error(e, "retype the record in plain ASCII (editors and web forms "
				  "sometimes insert typographic characters)",
				  "non-ASCII byte 0x%02x at offset %zu; the record is printable "
				  "ASCII only (RFC 8461 3.1)", c, i);
		return;
	}
}

int sts_txt_parse(const char *rec, size_t len, struct sts_txt *out, struct findings *fs,
		  const char *subject)
{
	struct txt_error e;
	char shown[SHOW_BUF], first_id[SHOW_BUF];
	size_t pos, n_fields = 0;
	bool wsp_before_sep = false, trailing_wsp = false, have_id = false, id_case = false;
	char id_variant[3] = "";

	memset(&e, 0, sizeof(e));
	memset(out, 0, sizeof(*out));
	if (!rec)
		len = 0;
	show(shown, sizeof(shown), rec ? rec : "", len);
	if (len > STS_TXT_MAX) {
		set_error(&e, "shorten the record to \"v=STSv1; id=...\"",
			  "record of %zu bytes; this tool reads at most %d", len, STS_TXT_MAX);
		goto out;
	}
	check_bytes(rec, len, &e);
	if (e.what[0])
		goto out;
	pos = sts_prefix(rec, len, &wsp_before_sep);
	if (pos == 0) {
		char why[128];

		if (near_miss(rec, len, why, sizeof(why)))
			set_error(&e, "begin the record with exactly \"v=STSv1;\"",
				  "the record does not begin with \"v=STSv1;\": %s (RFC 8461 3.1 "
				  "discards such records)", why);
		else
			set_error(&e, "begin the record with exactly \"v=STSv1;\"",
				  "the record does not begin with \"v=STSv1;\" (RFC 8461 3.1 "
				  "discards such records)");
		goto out;
	}

	/* sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]; pos is past a sep */
	for (;;) {
		size_t fstart, fend, end, nlen;
		const char *eq, *semi;

		while (pos < len && is_wsp(rec[pos]))
			pos++;
		if (pos == len)
			break;	/* [sts-sep] at the end */
		fstart = pos;
		semi = memchr(rec + pos, ';', len - pos);
		end = semi ? (size_t)(semi - rec) : len;
		fend = end;
		while (fend > fstart && is_wsp(rec[fend - 1]))
			fend--;
		if (fend == fstart) {
			/*
			 * RFC 8461 3.1: every sts-sep is followed by a field. Parsers that split
			 * on ';' skip an empty one; the strict verdict stands.
			 */
			set_error(&e, "remove the extra ';'",
				  "empty field (';' followed by ';') at offset %zu; the ABNF wants "
				  "a field after every ';' (RFC 8461 3.1); parsers that split on "
				  "';' skip it, strict ones reject the record", fstart);
			goto out;
		}
		/*
		 * RFC 8461 3.1: whitespace after the last field is only allowed as part of a
		 * final sts-sep (";"). Every common sender trims it, so this tool treats the
		 * record as valid and notes it instead of following the strict ABNF.
		 */
		if (!semi && fend < end)
			trailing_wsp = true;
		eq = memchr(rec + fstart, '=', fend - fstart);
		if (!eq) {
			char sf[SHOW_BUF];

			show(sf, sizeof(sf), rec + fstart, fend - fstart);
			set_error(&e, "write fields as name=value separated by ';'",
				  "field \"%s\" has no '=' (RFC 8461 3.1: fields are name=value, "
				  "separated by ';')", sf);
			goto out;
		}
		nlen = (size_t)(eq - (rec + fstart));
		n_fields++;
		if (nlen == 2 && memcmp(rec + fstart, "id", 2) == 0) {
			const char *v = eq + 1;
			size_t vn = fend - (size_t)(v - rec);

			if (have_id) {
				char sv[SHOW_BUF];

				show(sv, sizeof(sv), v, vn);
				set_error(&e, "keep exactly one id field",
					  "two id fields (\"%s\" and \"%s\"); RFC 8461 3.1 defines "
					  "one id and no rule to choose, so senders may take "
					  "either or reject the record", first_id, sv);
				goto out;
			}
			have_id = true;
			show(first_id, sizeof(first_id), v, vn);
			check_id(v, vn, &e);
			if (e.what[0])
				goto out;
			memcpy(out->id, v, vn);
			out->id[vn] = '\0';
		} else {
			if (nlen == 2 && (rec[fstart] | 0x20) == 'i' &&
			    (rec[fstart + 1] | 0x20) == 'd' && !id_case) {
				id_case = true;
				memcpy(id_variant, rec + fstart, 2);
			}
			check_ext(rec + fstart, nlen, eq + 1, fend - (size_t)(eq + 1 - rec), &e);
			if (e.what[0])
				goto out;
			out->n_ext++;
		}
		if (!semi)
			break;
		pos = end + 1;
	}
	if (!have_id) {
		/* RFC 8461 3.1: "id: (plain-text, required)" */
		if (id_case)
			set_error(&e, "write the field name as lower-case \"id=\"",
				  "no id field: \"%s=\" is not \"id=\" (the field name is "
				  "case-sensitive, %%s in RFC 8461 3.1); the id is required",
				  id_variant);
		else
			set_error(&e, "add \"id=\" with 1 to 32 letters and digits, e.g. "
				  "\"v=STSv1; id=20260101T000000\"",
				  "no id field%s (RFC 8461 3.1: the id is required)",
				  n_fields ? "" : " after \"v=STSv1;\"");
	}
out:
	if (e.what[0]) {
		out->id[0] = '\0';
		findings_add(fs, F_STS_TXT_INVALID, SEV_CRITICAL, subject,
			     "TXT record \"%s\": %s; compliant senders treat the domain as having "
			     "no MTA-STS policy (RFC 8461 3.1); %s", shown, e.what, e.fix);
	} else {
		out->valid = true;
	}
	if (wsp_before_sep)
		findings_add(fs, F_STS_TXT_NOTE, SEV_INFO, subject,
			     "TXT record \"%s\" has whitespace before the first ';': the ABNF "
			     "(sts-sep = *WSP \";\" *WSP, RFC 8461 3.1) allows it and this tool "
			     "counts the record, but the RFC text discards records not beginning "
			     "with \"v=STSv1;\" and senders that match that literal prefix ignore "
			     "it; write \"v=STSv1;\"", shown);
	if (trailing_wsp && !e.what[0])
		findings_add(fs, F_STS_TXT_NOTE, SEV_INFO, subject,
			     "TXT record \"%s\" ends in whitespace without a final ';': the strict "
			     "ABNF (RFC 8461 3.1) rejects it; this tool treats it as valid because "
			     "every common sender trims it; remove the trailing whitespace", shown);
	return out->valid ? 0 : -1;
}

int sts_txt_select(const char *const *recs, const size_t *lens, size_t n, struct sts_txt *out,
		   struct findings *fs, const char *subject)
{
	size_t count = 0, first = 0, near = n;
	char why[128] = "", shown[SHOW_BUF];
	struct dynbuf sb;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	dynbuf_init(&sb, 1024);
	for (size_t i = 0; i < n; i++) {
		if (recs[i] && sts_txt_is_sts(recs[i], lens[i])) {
			if (count++ == 0)
				first = i;
			if (count <= 3) {
				show(shown, sizeof(shown), recs[i], lens[i]);
				dynbuf_printf(&sb, "%s\"%s\"", count > 1 ? ", " : "", shown);
			}
		} else if (near == n && near_miss(recs[i], lens[i], why, sizeof(why))) {
			near = i;
		}
	}
	if (count == 0) {
		if (near < n) {
			show(shown, sizeof(shown), recs[near], lens[near]);
			findings_add(fs, F_STS_TXT_MISSING, SEV_CRITICAL, subject,
				     "no MTA-STS record at %s: \"%s\" comes close but %s, so "
				     "senders discard it (RFC 8461 3.1) and see no MTA-STS policy; "
				     "begin the record with exactly \"v=STSv1;\"", subject, shown,
				     why);
		} else {
			findings_add(fs, F_STS_TXT_MISSING, SEV_CRITICAL, subject,
				     "no MTA-STS record at %s (%zu TXT record%s, none begins with "
				     "\"v=STSv1;\"); senders see no MTA-STS policy and deliver "
				     "without it; publish \"v=STSv1; id=20260101T000000\"", subject,
				     n, n == 1 ? "" : "s");
		}
		goto out;
	}
	if (count > 1) {
		findings_add(fs, F_STS_TXT_MULTIPLE, SEV_CRITICAL, subject,
			     "RFC 8461 3.1: several v=STSv1 records mean no policy: %zu records at "
			     "%s begin with \"v=STSv1;\" (%s%s); senders must treat the domain as "
			     "having no MTA-STS policy; keep exactly one", count, subject,
			     sb.buf ? sb.buf : "", count > 3 ? ", ..." : "");
		goto out;
	}
	rc = sts_txt_parse(recs[first], lens[first], out, fs, subject);
out:
	dynbuf_free(&sb);
	return rc;
}
