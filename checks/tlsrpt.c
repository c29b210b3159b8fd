/* tlsrpt: the TLS-RPT TXT record at _smtp._tls.DOMAIN (RFC 8460 section 3). */
#include "tlsrpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abnf.h"
#include "dnsname.h"
#include "tagrec.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define BAD_URI_MAX 4	/* bad URIs kept for their findings; the rest are counted */

/*
 * Where the strict ABNF and real senders differ and the record is still used, this module
 * adds tlsrpt.note (INFO); a tlsrpt.invalid (WARNING) makes the record invalid.
 */

static const struct tagrec_syntax rpt_syntax = {
	.version = "v=TLSRPTv1",
	.rfc = "RFC 8460 3",
	.rule = "tlsrpt",
	.shorten_fix = "shorten the record",
	.non_ascii_fix = "retype the record in plain ASCII; percent-encode anything else "
			 "inside a URI",
};

struct bad_uri {
	char uri[TAGREC_SHOW_BUF];
	char why[384];
};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
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
		char sd[TAGREC_SHOW_BUF];

		tagrec_show(sd, sizeof(sd), dom, dn);
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
		while (i < n && (abnf_is_alnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' ||
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
		if (abnf_is_wsp((char)c)) {
			bsnprintf(why, whylen, "contains whitespace; separate several URIs with "
				  "',' (RFC 8460 3)");
			return false;
		}
		if (!abnf_is_alnum(c) && !strchr("-._~$&'()*+=:@/?#[]", c)) {
			char sc[8];

			printable_copy(sc, sizeof(sc), (const char *)&c, 1);
			bsnprintf(why, whylen, "contains '%s', which RFC 3986 does not allow in a "
				  "URI; percent-encode it", sc);
			return false;
		}
	}
	if (i == 6 && abnf_same_ci(u, "mailto", 6))
		return check_mailto(u + 7, n - 7, why, whylen);
	if (i == 5 && abnf_same_ci(u, "https", 5))
		return check_https(u + 6, n - 6, why, whylen);
	if (i == 4 && abnf_same_ci(u, "http", 4))
		bsnprintf(why, whylen, "uses http:, which RFC 8460 3 does not allow (reports "
			  "go to https: or mailto: only)");
	else
		bsnprintf(why, whylen, "uses a scheme other than mailto: and https:, the two "
			  "RFC 8460 3 defines");
	return false;
}

/* tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
static void parse_rua(struct tagrec *t, const char *v, size_t n, struct tlsrpt *out,
		      struct bad_uri *bad, size_t *n_bad, size_t *n_extra)
{
	size_t pos = 0;

	if (n == 0) {
		tagrec_fail(t, "RFC 8460 3: one or more URIs", "write rua=mailto:tlsrpt@<your domain>",
			    "rua= has no URI");
		return;
	}
	if (abnf_is_wsp(v[0])) {
		/* RFC 8460 3: "rua=" is followed directly by the URI; the strict verdict stands */
		tagrec_fail(t, "RFC 8460 3: tlsrpt-rua = \"rua=\" tlsrpt-uri; parsers that trim "
			    "accept it, strict ones reject the record",
			    "remove the whitespace after \"rua=\"", "whitespace after \"rua=\"");
		return;
	}
	for (;;) {
		const char *comma = memchr(v + pos, ',', n - pos);
		size_t end = comma ? (size_t)(comma - v) : n, s = pos, e = end;
		char why[384];

		while (s < e && abnf_is_wsp(v[s]))
			s++;
		while (e > s && abnf_is_wsp(v[e - 1]))
			e--;
		if (!check_uri(v + s, e - s, why, sizeof(why))) {
			if (*n_bad < BAD_URI_MAX) {
				tagrec_show(bad[*n_bad].uri, sizeof(bad[*n_bad].uri), v + s, e - s);
				bsnprintf(bad[*n_bad].why, sizeof(bad[*n_bad].why), "%s", why);
			}
			(*n_bad)++;
		} else if (out->n_rua < TLSRPT_MAX_RUA) {
			out->rua[out->n_rua++] = xstrndup(v + s, e - s);
		} else {
			(*n_extra)++;
		}
		if (!comma)
			break;
		pos = end + 1;
	}
}

/* Read the fields: rua once, extensions checked. */
static void parse_fields(struct tagrec *t, struct tlsrpt *out, struct bad_uri *bad,
			 size_t *n_bad, size_t *n_extra)
{
	struct tagrec_field f;
	bool have_rua = false, rua_case = false;

	while (tagrec_next(t, &f) > 0) {
		if (f.name_len == 3 && memcmp(f.name, "rua", 3) == 0) {
			if (have_rua) {
				/* the ABNF repeats fields freely, the RFC text defines one rua */
				tagrec_fail(t, "RFC 8460 3 defines one rua holding every URI and no "
					    "rule for several, so senders may use either or reject "
					    "the record",
					    "list every URI in one rua= field, separated by ','",
					    "two rua fields");
				return;
			}
			have_rua = true;
			parse_rua(t, f.value, f.value_len, out, bad, n_bad, n_extra);
			if (tagrec_failed(t))
				return;
			continue;
		}
		if (f.name_len == 3 && abnf_same_ci(f.name, "rua", 3))
			rua_case = true;
		tagrec_check_ext(t, &f);
		if (tagrec_failed(t))
			return;
	}
	if (!tagrec_failed(t) && !have_rua)
		tagrec_fail(t, "RFC 8460 3: rua is required", "add rua=mailto:tlsrpt@<your domain>",
			    "no rua field%s",
			    rua_case ? ": the field name \"rua\" is case-sensitive" :
			    t->n_fields ? "" : " after \"v=TLSRPTv1;\"");
}

int tlsrpt_parse(const char *rec, size_t len, struct tlsrpt *out, struct findings *fs,
		 const char *subject)
{
	struct finding_occurrence *fo;
	struct tagrec t;
	struct bad_uri bad[BAD_URI_MAX];
	char shown[TAGREC_SHOW_BUF];
	size_t n_bad = 0, n_extra = 0;
	bool failed;

	memset(out, 0, sizeof(*out));
	if (!rec)
		len = 0;
	tagrec_show(shown, sizeof(shown), rec ? rec : "", len);
	if (tagrec_open(&t, &rpt_syntax, rec, len, TLSRPT_MAX) == 0)
		parse_fields(&t, out, bad, &n_bad, &n_extra);
	if (tagrec_failed(&t)) {
		failed = true;
		fo = findings_add(fs, F_TLSRPT_INVALID, SEV_WARNING, subject);
		finding_set_what(fo, "%s", t.err.what);
		finding_set_evidence(fo, "TXT record \"%s\"%s%s", shown, t.err.rule[0] ? "; " : "",
				     t.err.rule);
		finding_set_consequence(fo, "senders may ignore the record and send no TLS reports");
		finding_set_fix(fo, "%s", t.err.fix);
	} else {
		/* one finding for the record: each bad URI an occurrence of it */
		/* one finding for the record, each bad URI an occurrence in its evidence */
		for (size_t i = 0; i < n_bad && i < BAD_URI_MAX; i++) {
			fo = findings_add(fs, F_TLSRPT_INVALID, SEV_WARNING, subject);
			finding_set_what(fo, "unusable rua URI%s", n_bad > 1 ? "s" : "");
			finding_set_evidence(fo, "\"%s\" %s", bad[i].uri, bad[i].why);
			finding_set_consequence(fo, "senders cannot report to %s%s",
						n_bad > 1 ? "them" : "it", out->n_rua ?
						" and use only the other URIs" :
						", and no other URI is usable, so you get no TLS "
						"reports");
			finding_set_fix(fo, "correct or remove the URI");
		}
		if (n_bad > BAD_URI_MAX) {
			fo = findings_add(fs, F_TLSRPT_INVALID, SEV_WARNING, subject);
			finding_set_what(fo, "unusable rua URIs");
			finding_set_evidence(fo, "%zu more", n_bad - BAD_URI_MAX);
		}
		failed = n_bad > 0;
	}
	if (!failed && n_extra) {
		fo = findings_add(fs, F_TLSRPT_NOTE, SEV_INFO, subject);
		finding_set_what(fo, "rua lists %zu usable URIs; this tool keeps the first %d and "
				 "ignores %zu", out->n_rua + n_extra, TLSRPT_MAX_RUA, n_extra);
		finding_set_evidence(fo, "RFC 8460 sets no limit");
		finding_set_consequence(fo, "senders may report to one of them only; the record "
					"stays valid");
	}
	if (t.wsp_before_sep) {
		fo = findings_add(fs, F_TLSRPT_NOTE, SEV_INFO, subject);
		finding_set_what(fo, "whitespace before the first ';' of the TXT record");
		finding_set_evidence(fo, "TXT record \"%s\"", shown);
		finding_set_consequence(fo, "the ABNF (field-delim = *WSP \";\" *WSP, RFC 8460 3) "
					"allows it and this tool counts the record, but the RFC "
					"text discards records not beginning with \"v=TLSRPTv1;\" "
					"and senders matching that literal prefix ignore it");
		finding_set_fix(fo, "write \"v=TLSRPTv1;\"");
	}
	if (t.trailing_wsp && !tagrec_failed(&t)) {
		fo = findings_add(fs, F_TLSRPT_NOTE, SEV_INFO, subject);
		finding_set_what(fo, "the TXT record ends in whitespace without a final ';'");
		finding_set_evidence(fo, "TXT record \"%s\"", shown);
		finding_set_consequence(fo, "the strict ABNF (RFC 8460 3) rejects it; this tool "
					"treats it as valid because common senders trim it");
		finding_set_fix(fo, "remove the trailing whitespace");
	}
	out->valid = !failed;
	return out->valid ? 0 : -1;
}

int tlsrpt_select(const char *const *recs, const size_t *lens, size_t n, struct tlsrpt *out,
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
		if (recs[i] && tagrec_prefix(&rpt_syntax, recs[i], lens[i], NULL)) {
			if (count++ == 0)
				first = i;
			if (count <= 3) {
				tagrec_show(shown, sizeof(shown), recs[i], lens[i]);
				dynbuf_printf(&sb, "%s\"%s\"", count > 1 ? ", " : "", shown);
			}
		} else if (near == n && tagrec_near_miss(&rpt_syntax, recs[i], lens[i], why,
							 sizeof(why))) {
			near = i;
		}
	}
	if (count == 0) {
		fo = findings_add(fs, F_TLSRPT_MISSING, SEV_WARNING, subject);
		if (near < n) {
			tagrec_show(shown, sizeof(shown), recs[near], lens[near]);
			finding_set_what(fo, "no TLS-RPT record at %s: \"%s\" comes close but %s",
					 subject, shown, why);
			finding_set_evidence(fo, "RFC 8460 3 discards such records");
			finding_set_consequence(fo, "senders cannot report TLS failures to you");
			finding_set_fix(fo, "begin the record with exactly \"v=TLSRPTv1;\"");
		} else {
			finding_set_what(fo, "no TLS-RPT record at %s", subject);
			finding_set_consequence(fo, "senders cannot report TLS failures to you");
			finding_set_fix(fo, "publish v=TLSRPTv1; rua=mailto:...");
		}
		goto out;
	}
	if (count > 1) {
		fo = findings_add(fs, F_TLSRPT_MULTIPLE, SEV_WARNING, subject);
		finding_set_what(fo, "%zu records at %s begin with \"v=TLSRPTv1;\"", count, subject);
		finding_set_evidence(fo, "%s%s", sb.buf ? sb.buf : "", count > 3 ? ", ..." : "");
		finding_set_consequence(fo, "RFC 8460 3: with more than one, senders must assume no "
					"TLS-RPT and send no reports");
		finding_set_fix(fo, "keep exactly one");
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
