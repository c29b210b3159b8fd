/* tlsrpt: the TLS-RPT TXT record at _smtp._tls.DOMAIN (RFC 8460 section 3). */
#include "dnsname.h"
#include "tlsrpt.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_TAG "v=TLSRPTv1"
#define VERSION_LEN 10
#define EXT_NAME_MAX 32
#define SHOW_LEN 96	/* bytes of a record quoted in a message */
#define SHOW_BUF (SHOW_LEN * 4 + 4)
#define BAD_URI_MAX 4	/* bad URIs reported one by one; the rest are counted */

/*
 * Where the strict ABNF and real senders differ and the record is still used, this module
 * adds tlsrpt.note (INFO); a tlsrpt.invalid (WARNING) makes the record invalid.
 */

struct rpt_error {
	char what[640];
	char fix[200];
};

struct bad_uri {
	char uri[SHOW_BUF];
	char why[384];
};

static void set_error(struct rpt_error *e, const char *fix, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void set_error(struct rpt_error *e, const char *fix, const char *fmt, ...)
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

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Untrusted bytes made printable and bounded, with "..." when cut. */
static void show(char *dst, size_t dstlen, const char *s, size_t n)
{
	printable_copy(dst, dstlen, s, n < SHOW_LEN ? n : SHOW_LEN);
	if ((n > SHOW_LEN || memchr(s, '\0', n < SHOW_LEN ? n : SHOW_LEN)) &&
	    strlen(dst) + 4 < dstlen)
		strcat(dst, "...");
}

static bool same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

/*
 * Length of "v=TLSRPTv1" *WSP ";" or 0. RFC 8460 3 discards records that do not begin
 * with "v=TLSRPTv1;"; its ABNF (field-delim = *WSP ";" *WSP) also allows WSP before the
 * ';', so such a record counts and tlsrpt_parse notes it.
 */
static size_t rpt_prefix(const char *rec, size_t len, bool *wsp)
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

/* A record meant as TLS-RPT that senders discard (leading WSP, case, no ';'). */
static bool near_miss(const char *rec, size_t len, char *why, size_t whylen)
{
	size_t i = 0;

	if (!rec || rpt_prefix(rec, len, NULL))
		return false;
	while (i < len && is_wsp(rec[i]))
		i++;
	if (len - i < VERSION_LEN || !same_ci(rec + i, VERSION_TAG, VERSION_LEN))
		return false;
	if (i > 0)
		bsnprintf(why, whylen, "it begins with whitespace");
	else if (memcmp(rec, VERSION_TAG, VERSION_LEN) != 0)
		bsnprintf(why, whylen, "\"v=TLSRPTv1\" is case-sensitive (%%s in the RFC 8460 3 "
			  "ABNF)");
	else
		bsnprintf(why, whylen, "\"v=TLSRPTv1\" is not followed by ';'");
	return true;
}

/* RFC 8460 3 tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
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

/* RFC 8460 3 tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): no ';', '=' or space. */
static void check_ext(const char *name, size_t nn, const char *v, size_t n, struct rpt_error *e)
{
	char sn[SHOW_BUF];

	show(sn, sizeof(sn), name, nn);
	if (!ext_name_valid(name, nn)) {
		set_error(e, "correct or remove the field",
			  "field name \"%s\" is not an extension name (RFC 8460 3 tlsrpt-ext-name: "
			  "a letter or digit, then up to 31 letters, digits, '_', '-' or '.')", sn);
		return;
	}
	if (n == 0) {
		set_error(e, "give the field a value or remove it",
			  "field %s has an empty value (RFC 8460 3: tlsrpt-ext-value needs at "
			  "least one character)", sn);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c > 0x20 && c < 0x7f && c != '=')
			continue;
		set_error(e, "correct or remove the field",
			  "the value of field %s holds %s at position %zu; tlsrpt-ext-value "
			  "(RFC 8460 3) is printable ASCII without space, ';' or '='", sn,
			  c == '=' ? "'='" : "whitespace", i + 1);
		return;
	}
}

/* Reject NUL, control and non-ASCII bytes: the ABNF is printable ASCII and WSP only. */
static void check_bytes(const char *rec, size_t len, struct rpt_error *e)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rec[i];

		if (c == '\t' || (c >= 0x20 && c < 0x7f))
			continue;
		if (c == 0)
			set_error(e, "publish the record as plain ASCII text",
				  "NUL byte at offset %zu; the record is printable ASCII only "
				  "(RFC 8460 3)", i);
		else if (c < 0x80)
			set_error(e, "publish the record as plain ASCII text",
				  "control byte 0x%02x at offset %zu; the record is printable "
				  "ASCII only (RFC 8460 3)", c, i);
		else
			set_error(e, "retype the record in plain ASCII; percent-encode anything "
				  "else inside a URI",
				  "non-ASCII byte 0x%02x at offset %zu; the record is printable "
				  "ASCII only (RFC 8460 3)", c, i);
		return;
	}
}

/* mailto: needs local@domain before any '?' (RFC 6068). */
static bool check_mailto(const char *a, size_t n, char *why, size_t whylen)
{
	const char *q = memchr(a, '?', n), *at;
	char dom[256];
	size_t an = q ? (size_t)(q - a) : n, dn;

	at = memchr(a, '@', an);
	if (!at || at == a || at == a + an - 1) {
		bsnprintf(why, whylen, "is a mailto: URI without an address (local@domain); "
			  "write e.g. mailto:tlsrpt@example.org");
		return false;
	}
	while (memchr(at + 1, '@', an - (size_t)(at + 1 - a)))
		at = memchr(at + 1, '@', an - (size_t)(at + 1 - a));
	dn = an - (size_t)(at + 1 - a);
	if (dn >= sizeof(dom)) {
		bsnprintf(why, whylen, "has a mail domain of %zu characters, longer than a DNS "
			  "name", dn);
		return false;
	}
	memcpy(dom, at + 1, dn);
	dom[dn] = '\0';
	if (!dns_name_valid(dom)) {
		char sd[SHOW_BUF];

		show(sd, sizeof(sd), dom, dn);
		bsnprintf(why, whylen, "has the mail domain \"%s\", which is not a host name",
			  sd);
		return false;
	}
	return true;
}

/* https: needs "//" and a non-empty host (RFC 3986 3.2). */
static bool check_https(const char *a, size_t n, char *why, size_t whylen)
{
	size_t i = 2, hs, he;

	if (n < 2 || a[0] != '/' || a[1] != '/') {
		bsnprintf(why, whylen, "is an https: URI without \"//\" and a host");
		return false;
	}
	while (i < n && a[i] != '/' && a[i] != '?' && a[i] != '#')
		i++;
	hs = 2;
	for (size_t k = 2; k < i; k++)
		if (a[k] == '@')
			hs = k + 1;	/* skip userinfo */
	he = hs;
	if (hs < i && a[hs] == '[') {
		while (he < i && a[he] != ']')
			he++;
		if (he == i || he == hs + 1) {
			bsnprintf(why, whylen, "has a bracketed host that is empty or unclosed");
			return false;
		}
		he++;
	} else {
		while (he < i && a[he] != ':')
			he++;
	}
	if (he == hs) {
		bsnprintf(why, whylen, "is an https: URI without a host");
		return false;
	}
	if (he < i && a[he] == ':')
		for (size_t k = he + 1; k < i; k++)
			if (!is_digit((unsigned char)a[k])) {
				bsnprintf(why, whylen, "has a port that is not a number");
				return false;
			}
	return true;
}

/*
 * RFC 8460 3: tlsrpt-uri = URI (RFC 3986) with ',' and '!' percent-encoded; the scheme must
 * be mailto: or https:. Returns whether senders can send reports to it; why says otherwise.
 */
static bool check_uri(const char *u, size_t n, char *why, size_t whylen)
{
	size_t i = 0;

	if (n == 0) {
		bsnprintf(why, whylen, "is empty (a ',' with no URI after it?)");
		return false;
	}
	if (is_alpha((unsigned char)u[0]))
		while (i < n && (is_alnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' ||
				 u[i] == '.'))
			i++;
	if (i == 0 || i == n || u[i] != ':') {
		bsnprintf(why, whylen, memchr(u, '@', n) ?
			  "has no scheme; write mailto: before an address (each URI in rua= needs "
			  "its own mailto:)" : "has no scheme; use mailto: or https:");
		return false;
	}
	for (size_t j = i + 1; j < n; j++) {
		unsigned char c = (unsigned char)u[j];

		if (c == '%') {
			if (j + 2 >= n || !is_hex((unsigned char)u[j + 1]) ||
			    !is_hex((unsigned char)u[j + 2])) {
				bsnprintf(why, whylen, "has a '%%' at position %zu that is not "
					  "followed by two hex digits (RFC 3986 pct-encoded)",
					  j + 1);
				return false;
			}
			j += 2;
			continue;
		}
		if (c == '!') {
			bsnprintf(why, whylen, "contains '!', which RFC 8460 3 requires to be "
				  "percent-encoded (%%21); a DMARC-style size limit (\"!10m\") has "
				  "no meaning in TLS-RPT");
			return false;
		}
		if (is_wsp((char)c)) {
			bsnprintf(why, whylen, "contains whitespace; separate several URIs with "
				  "',' (RFC 8460 3)");
			return false;
		}
		if (!is_alnum(c) && !strchr("-._~$&'()*+=:@/?#[]", c)) {
			char sc[8];

			printable_copy(sc, sizeof(sc), (const char *)&c, 1);
			bsnprintf(why, whylen, "contains '%s', which RFC 3986 does not allow in a "
				  "URI; percent-encode it", sc);
			return false;
		}
	}
	if (i == 6 && same_ci(u, "mailto", 6))
		return check_mailto(u + 7, n - 7, why, whylen);
	if (i == 5 && same_ci(u, "https", 5))
		return check_https(u + 6, n - 6, why, whylen);
	if (i == 4 && same_ci(u, "http", 4))
		bsnprintf(why, whylen, "uses http:, which RFC 8460 3 does not allow (reports "
			  "go to https: or mailto: only)");
	else
		bsnprintf(why, whylen, "uses a scheme other than mailto: and https:, the two "
			  "RFC 8460 3 defines");
	return false;
}

/* tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
static void parse_rua(const char *v, size_t n, struct tlsrpt *out, struct bad_uri *bad,
		      size_t *n_bad, size_t *n_extra, struct rpt_error *e)
{
	size_t pos = 0;

	if (n == 0) {
		set_error(e, "write rua=mailto:tlsrpt@<your domain>",
			  "rua= has no URI (RFC 8460 3: one or more URIs)");
		return;
	}
	if (is_wsp(v[0])) {
		/* RFC 8460 3: "rua=" is followed directly by the URI; the strict verdict stands */
		set_error(e, "remove the whitespace after \"rua=\"",
			  "whitespace after \"rua=\" (RFC 8460 3: tlsrpt-rua = \"rua=\" "
			  "tlsrpt-uri); parsers that trim accept it, strict ones reject the "
			  "record");
		return;
	}
	for (;;) {
		const char *comma = memchr(v + pos, ',', n - pos);
		size_t end = comma ? (size_t)(comma - v) : n, s = pos, t = end;
		char why[384];

		while (s < t && is_wsp(v[s]))
			s++;
		while (t > s && is_wsp(v[t - 1]))
			t--;
		if (!check_uri(v + s, t - s, why, sizeof(why))) {
			if (*n_bad < BAD_URI_MAX) {
				show(bad[*n_bad].uri, sizeof(bad[*n_bad].uri), v + s, t - s);
				bsnprintf(bad[*n_bad].why, sizeof(bad[*n_bad].why), "%s", why);
			}
			(*n_bad)++;
		} else if (out->n_rua < TLSRPT_MAX_RUA) {
			out->rua[out->n_rua++] = xstrndup(v + s, t - s);
		} else {
			(*n_extra)++;
		}
		if (!comma)
			break;
		pos = end + 1;
	}
}

int tlsrpt_parse(const char *rec, size_t len, struct tlsrpt *out, struct findings *fs,
		 const char *subject)
{
	struct rpt_error e;
	struct bad_uri bad[BAD_URI_MAX];
	char shown[SHOW_BUF];
	size_t pos, n_fields = 0, n_bad = 0, n_extra = 0;
	bool wsp_before_sep = false, trailing_wsp = false, have_rua = false, rua_case = false;
	bool failed = false;

	memset(&e, 0, sizeof(e));
	memset(out, 0, sizeof(*out));
	if (!rec)
		len = 0;
	show(shown, sizeof(shown), rec ? rec : "", len);
	if (len > TLSRPT_MAX) {
		set_error(&e, "shorten the record",
			  "record of %zu bytes; this tool reads at most %d", len, TLSRPT_MAX);
		goto out;
	}
	check_bytes(rec, len, &e);
	if (e.what[0])
		goto out;
	pos = rpt_prefix(rec, len, &wsp_before_sep);
	if (pos == 0) {
		char why[128];

		if (near_miss(rec, len, why, sizeof(why)))
			set_error(&e, "begin the record with exactly \"v=TLSRPTv1;\"",
				  "the record does not begin with \"v=TLSRPTv1;\": %s (RFC 8460 3 "
				  "discards such records)", why);
		else
			set_error(&e, "begin the record with exactly \"v=TLSRPTv1;\"",
				  "the record does not begin with \"v=TLSRPTv1;\" (RFC 8460 3 "
				  "discards such records)");
		goto out;
	}

	/* tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim] */
	for (;;) {
		size_t fstart, fend, end, nlen;
		const char *eq, *semi;

		while (pos < len && is_wsp(rec[pos]))
			pos++;
		if (pos == len)
			break;	/* [field-delim] at the end */
		fstart = pos;
		semi = memchr(rec + pos, ';', len - pos);
		end = semi ? (size_t)(semi - rec) : len;
		fend = end;
		while (fend > fstart && is_wsp(rec[fend - 1]))
			fend--;
		if (fend == fstart) {
			/* RFC 8460 3: a field follows every ';'; the strict verdict stands */
			set_error(&e, "remove the extra ';'",
				  "empty field (';' followed by ';') at offset %zu; the ABNF wants "
				  "a field after every ';' (RFC 8460 3); parsers that split on ';' "
				  "skip it, strict ones reject the record", fstart);
			goto out;
		}
		/*
		 * RFC 8460 3: whitespace after the last field is only allowed inside a final
		 * field-delim. Common senders trim it, so, as for the MTA-STS record, this
		 * tool treats the record as valid and notes it.
		 */
		if (!semi && fend < end)
			trailing_wsp = true;
		eq = memchr(rec + fstart, '=', fend - fstart);
		if (!eq) {
			char sf[SHOW_BUF];

			show(sf, sizeof(sf), rec + fstart, fend - fstart);
			set_error(&e, "write fields as name=value separated by ';'",
				  "field \"%s\" has no '=' (RFC 8460 3: fields are name=value, "
				  "separated by ';')", sf);
			goto out;
		}
		nlen = (size_t)(eq - (rec + fstart));
		n_fields++;
		if (nlen == 3 && memcmp(rec + fstart, "rua", 3) == 0) {
			if (have_rua) {
				/* the ABNF repeats fields freely, the RFC text defines one rua */
				set_error(&e, "list every URI in one rua= field, separated by ','",
					  "two rua fields; RFC 8460 3 defines one rua holding "
					  "every URI and no rule for several, so senders may use "
					  "either or reject the record");
				goto out;
			}
			have_rua = true;
			parse_rua(eq + 1, fend - (size_t)(eq + 1 - rec), out, bad, &n_bad, &n_extra,
				  &e);
			if (e.what[0])
				goto out;
		} else {
			if (nlen == 3 && same_ci(rec + fstart, "rua", 3))
				rua_case = true;
			check_ext(rec + fstart, nlen, eq + 1, fend - (size_t)(eq + 1 - rec), &e);
			if (e.what[0])
				goto out;
		}
		if (!semi)
			break;
		pos = end + 1;
	}
	if (!have_rua)
		set_error(&e, "add rua=mailto:tlsrpt@<your domain>",
			  "no rua field%s (RFC 8460 3: rua is required)",
			  rua_case ? ": the field name \"rua\" is case-sensitive" :
			  n_fields ? "" : " after \"v=TLSRPTv1;\"");
out:
	if (e.what[0]) {
		failed = true;
		findings_add(fs, F_TLSRPT_INVALID, SEV_WARNING, subject,
			     "TXT record \"%s\": %s; senders may ignore the record and send no TLS "
			     "reports; %s", shown, e.what, e.fix);
	} else {
		for (size_t i = 0; i < n_bad && i < BAD_URI_MAX; i++)
			findings_add(fs, F_TLSRPT_INVALID, SEV_WARNING, subject,
				     "rua URI \"%s\" %s; senders cannot report to it%s",
				     bad[i].uri, bad[i].why,
				     out->n_rua ? " and use only the other URIs" :
				     ", and no other URI is usable, so you get no TLS reports");
		if (n_bad > BAD_URI_MAX)
			findings_add(fs, F_TLSRPT_INVALID, SEV_WARNING, subject,
				     "%zu more rua URIs are unusable; fix them as above",
				     n_bad - BAD_URI_MAX);
		failed = n_bad > 0;
	}
	if (!failed && n_extra)
		findings_add(fs, F_TLSRPT_NOTE, SEV_INFO, subject,
			     "rua lists %zu usable URIs; this tool keeps the first %d and ignores "
			     "%zu (RFC 8460 sets no limit; senders may report to one of them "
			     "only); the record stays valid", out->n_rua + n_extra, TLSRPT_MAX_RUA,
			     n_extra);
	if (wsp_before_sep)
		findings_add(fs, F_TLSRPT_NOTE, SEV_INFO, subject,
			     "TXT record \"%s\" has whitespace before the first ';': the ABNF "
			     "(field-delim = *WSP \";\" *WSP, RFC 8460 3) allows it and this tool "
			     "counts the record, but the RFC text discards records not beginning "
			     "with \"v=TLSRPTv1;\" and senders matching that literal prefix ignore "
			     "it; write \"v=TLSRPTv1;\"", shown);
	if (trailing_wsp && !e.what[0])
		findings_add(fs, F_TLSRPT_NOTE, SEV_INFO, subject,
			     "TXT record \"%s\" ends in whitespace without a final ';': the strict "
			     "ABNF (RFC 8460 3) rejects it; this tool treats it as valid because "
			     "common senders trim it; remove the trailing whitespace", shown);
	out->valid = !failed;
	return out->valid ? 0 : -1;
}

int tlsrpt_select(const char *const *recs, const size_t *lens, size_t n, struct tlsrpt *out,
		  struct findings *fs, const char *subject)
{
	size_t count = 0, first = 0, near = n;
	char why[128] = "", shown[SHOW_BUF];
	struct dynbuf sb;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	dynbuf_init(&sb, 1024);
	for (size_t i = 0; i < n; i++) {
		if (recs[i] && rpt_prefix(recs[i], lens[i], NULL)) {
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
			findings_add(fs, F_TLSRPT_MISSING, SEV_WARNING, subject,
				     "no TLS-RPT record at %s: \"%s\" comes close but %s, so "
				     "senders discard it (RFC 8460 3) and cannot report TLS "
				     "failures to you; begin the record with exactly "
				     "\"v=TLSRPTv1;\"", subject, shown,
				     why);
		} else {
			findings_add(fs, F_TLSRPT_MISSING, SEV_WARNING, subject,
				     "no TLS-RPT record at %s: senders cannot report TLS failures "
				     "to you; publish v=TLSRPTv1; rua=mailto:...", subject);
		}
		goto out;
	}
	if (count > 1) {
		findings_add(fs, F_TLSRPT_MULTIPLE, SEV_WARNING, subject,
			     "%zu records at %s begin with \"v=TLSRPTv1;\" (%s%s); RFC 8460 3: "
			     "with more than one, senders must assume no TLS-RPT and send no "
			     "reports; keep exactly one", count, subject, sb.buf ? sb.buf : "",
			     count > 3 ? ", ..." : "");
		goto out;
	}
	rc = tlsrpt_parse(recs[first], lens[first], out, fs, subject);
out:
	dynbuf_free(&sb);
	return rc;
}

void tlsrpt_free(struct tlsrpt *t)
{
	for (size_t i = 0; i < t->n_rua && i < TLSRPT_MAX_RUA; i++)
		free(t->rua[i]);
	memset(t, 0, sizeof(*t));
}
