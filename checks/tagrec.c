/*
 * tagrec: the tokenizer of "v=VERSION; name=value; ..." TXT records, shared by the MTA-STS
 * record (RFC 8461 3.1) and the TLS-RPT record (RFC 8460 3).
 */
#include "tagrec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "abnf.h"
#include "lib/str.h"

size_t tagrec_prefix(const struct tagrec_syntax *syn, const char *rec, size_t len, bool *wsp)
{
	size_t vl = strlen(syn->version), i = vl;

	if (!rec || len < vl + 1 || memcmp(rec, syn->version, vl) != 0)
		return 0;
	while (i < len && abnf_is_wsp(rec[i]))
		i++;
	if (i == len || rec[i] != ';')
		return 0;
	if (wsp)
		*wsp = i > vl;
	return i + 1;
}

bool tagrec_near_miss(const struct tagrec_syntax *syn, const char *rec, size_t len, char *why,
		      size_t whylen)
{
	size_t vl = strlen(syn->version), i = 0;

	if (!rec || tagrec_prefix(syn, rec, len, NULL))
		return false;
	while (i < len && abnf_is_wsp(rec[i]))
		i++;
	if (len - i < vl || !abnf_same_ci(rec + i, syn->version, vl))
		return false;
	if (i > 0)
		bsnprintf(why, whylen, "it begins with whitespace");
	else if (memcmp(rec, syn->version, vl) != 0)
		bsnprintf(why, whylen, "\"%s\" is case-sensitive (%%s in the %s ABNF)", syn->version,
			  syn->rfc);
	else
		bsnprintf(why, whylen, "\"%s\" is not followed by ';'", syn->version);
	return true;
}

void tagrec_show(char *dst, size_t dstlen, const char *s, size_t n)
{
	abnf_show(dst, dstlen, s, n, TAGREC_SHOW_LEN);
}

void tagrec_fail(struct tagrec *t, const char *rule, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (t->err.what[0])
		return;	/* the first error is the one reported */
	va_start(ap, fmt);
	if (vsnprintf(t->err.what, sizeof(t->err.what), fmt, ap) < 0 || !t->err.what[0])
		bsnprintf(t->err.what, sizeof(t->err.what), "unprintable error");
	va_end(ap);
	bsnprintf(t->err.rule, sizeof(t->err.rule), "%s", rule ? rule : "");
	bsnprintf(t->err.fix, sizeof(t->err.fix), "%s", fix ? fix : "");
}

bool tagrec_failed(const struct tagrec *t)
{
	return t->err.what[0] != '\0';
}

/* NUL, control and non-ASCII bytes: the grammars are printable ASCII and WSP only. */
static void check_bytes(struct tagrec *t)
{
	const struct tagrec_syntax *syn = t->syn;
	char rule[96];

	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->rec[i];

		if (c == '\t' || (c >= 0x20 && c < 0x7f))
			continue;
		bsnprintf(rule, sizeof(rule), "the record is printable ASCII only (%s)", syn->rfc);
		if (c == 0)
			tagrec_fail(t, rule, "publish the record as plain ASCII text",
				    "NUL byte at offset %zu", i);
		else if (c < 0x80)
			tagrec_fail(t, rule, "publish the record as plain ASCII text",
				    "control byte 0x%02x at offset %zu", c, i);
		else
			tagrec_fail(t, rule, syn->non_ascii_fix, "non-ASCII byte 0x%02x at offset %zu",
				    c, i);
		return;
	}
}

int tagrec_open(struct tagrec *t, const struct tagrec_syntax *syn, const char *rec, size_t len,
		size_t max)
{
	char rule[96], fix[64];

	memset(t, 0, sizeof(*t));
	t->syn = syn;
	t->rec = rec ? rec : "";
	t->len = rec ? len : 0;
	if (t->len > max) {
		bsnprintf(rule, sizeof(rule), "a DNS TXT record carries at most %zu bytes", max);
		tagrec_fail(t, rule, syn->shorten_fix, "record of %zu bytes", t->len);
		return -1;
	}
	check_bytes(t);
	if (tagrec_failed(t))
		return -1;
	t->pos = tagrec_prefix(syn, t->rec, t->len, &t->wsp_before_sep);
	if (t->pos == 0) {
		char why[128];

		bsnprintf(rule, sizeof(rule), "%s discards such records", syn->rfc);
		bsnprintf(fix, sizeof(fix), "begin the record with exactly \"%s;\"", syn->version);
		if (tagrec_near_miss(syn, t->rec, t->len, why, sizeof(why)))
			tagrec_fail(t, rule, fix, "the record does not begin with \"%s;\": %s",
				    syn->version, why);
		else
			tagrec_fail(t, rule, fix, "the record does not begin with \"%s;\"",
				    syn->version);
		return -1;
	}
	return 0;
}

int tagrec_next(struct tagrec *t, struct tagrec_field *f)
{
	const char *rec = t->rec, *eq, *semi;
	size_t fstart, fend, end;
	char rule[160];

	if (tagrec_failed(t))
		return -1;
	if (t->done)
		return 0;
	for (;;) {
		while (t->pos < t->len && abnf_is_wsp(rec[t->pos]))
			t->pos++;
		if (t->pos == t->len) {
			t->done = true;
			return 0;	/* [sep] at the end */
		}
		fstart = t->pos;
		semi = memchr(rec + fstart, ';', t->len - fstart);
		end = semi ? (size_t)(semi - rec) : t->len;
		fend = end;
		while (fend > fstart && abnf_is_wsp(rec[fend - 1]))
			fend--;
		if (fend > fstart)
			break;
		/* a field follows every separator; parsers that split on ';' skip an empty one */
		if (!t->syn->skip_empty) {
			bsnprintf(rule, sizeof(rule), "the ABNF wants a field after every ';' (%s); "
				  "parsers that split on ';' skip it, strict ones reject the record",
				  t->syn->rfc);
			tagrec_fail(t, rule, "remove the extra ';'",
				    "empty field (';' followed by ';') at offset %zu", fstart);
			return -1;
		}
		if (t->n_empty++ == 0)
			t->first_empty = fstart;
		t->pos = end + 1;
	}
	/*
	 * WSP after the last field is only allowed inside a final separator (";"). Most
	 * senders trim it, so this tool reads the record and the caller notes it.
	 */
	if (!semi && fend < end)
		t->trailing_wsp = true;
	eq = memchr(rec + fstart, '=', fend - fstart);
	if (!eq) {
		char sf[TAGREC_SHOW_BUF];

		tagrec_show(sf, sizeof(sf), rec + fstart, fend - fstart);
		bsnprintf(rule, sizeof(rule), "%s: fields are name=value, separated by ';'",
			  t->syn->rfc);
		tagrec_fail(t, rule, "write fields as name=value separated by ';'",
			    "field \"%s\" has no '='", sf);
		return -1;
	}
	f->name = rec + fstart;
	f->name_len = (size_t)(eq - f->name);
	f->value = eq + 1;
	f->value_len = fend - (size_t)(f->value - rec);
	f->offset = fstart;
	t->n_fields++;
	if (semi)
		t->pos = end + 1;
	else
		t->done = true;
	return 1;
}

void tagrec_check_ext(struct tagrec *t, const struct tagrec_field *f)
{
	const struct tagrec_syntax *syn = t->syn;
	char sn[TAGREC_SHOW_BUF], rule[200];

	tagrec_show(sn, sizeof(sn), f->name, f->name_len);
	if (!abnf_ext_name_valid(f->name, f->name_len)) {
		bsnprintf(rule, sizeof(rule), "%s %s-ext-name: a letter or digit, then up to 31 "
			  "letters, digits, '_', '-' or '.'", syn->rfc, syn->rule);
		tagrec_fail(t, rule, "correct or remove the field",
			    "field name \"%s\" is not an extension name", sn);
		return;
	}
	if (f->value_len == 0) {
		bsnprintf(rule, sizeof(rule), "%s: %s-ext-value needs at least one character",
			  syn->rfc, syn->rule);
		tagrec_fail(t, rule, "give the field a value or remove it",
			    "field %s has an empty value", sn);
		return;
	}
	for (size_t i = 0; i < f->value_len; i++) {
		unsigned char c = (unsigned char)f->value[i];

		if (c > 0x20 && c < 0x7f && c != '=')
			continue;
		bsnprintf(rule, sizeof(rule), "%s-ext-value (%s) is printable ASCII without space, "
			  "';' or '='", syn->rule, syn->rfc);
		tagrec_fail(t, rule, "correct or remove the field",
			    "the value of field %s holds %s at position %zu", sn,
			    c == '=' ? "'='" : abnf_is_wsp((char)c) ? "whitespace" : "a control byte",
			    i + 1);
		return;
	}
}
