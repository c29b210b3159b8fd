/* policy: the MTA-STS policy file, parsed as RFC 8461 section 3.2 says. */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abnf.h"
#include "dnsname.h"
#include "mx_match.h"
#include "senders.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define SHOW_LEN 64		/* bytes of a line or value quoted in a message */
#define SHOW_BUF (SHOW_LEN * 4 + 4)
#define HELD_ERR_MAX FINDING_OCC_MAX	/* line errors held until the first field */
#define PATTERN_COPY 300	/* longer than any valid pattern (253) */
#define ONE_DAY 86400L
#define MAX_AGE_DIGITS 10

/* What senders do with a policy that breaks a rule of RFC 8461 3.2. */
#define CONSEQ "senders treat the whole policy as invalid and fall back to no MTA-STS"
#define FIX_MAX_AGE "write e.g. \"max_age: 604800\" (one week)"

enum field {
	FIELD_VERSION,
	FIELD_MODE,
	FIELD_MAX_AGE,
	FIELD_MX,
	FIELD__COUNT
};

static const char *const field_names[FIELD__COUNT] = {
	[FIELD_VERSION] = "version",
	[FIELD_MODE] = "mode",
	[FIELD_MAX_AGE] = "max_age",
	[FIELD_MX] = "mx",
};

/* The first occurrence of a known field. */
struct seen {
	unsigned count;
	unsigned line;
	const char *v;	/* points into the body */
	size_t vn;
};

/* A policy.invalid for one line, held while no field has been read (see line_error). */
struct held_err {
	char what[640];
	char evidence[160];
	char fix[120];
	enum sender_rule sr;
};

struct pctx {
	struct policy *out;
	struct findings *fs;
	const char *subject;
	bool invalid;			/* a CRITICAL finding was added */
	struct seen seen[FIELD__COUNT];
	size_t n_fields;		/* lines that are key: value */
	struct held_err held[HELD_ERR_MAX];
	unsigned n_held, n_held_more, first_held_more;
	unsigned n_blank, first_blank;
	unsigned n_blank_last;		/* n_blank when the last field was read */
	bool blank_inside;		/* a blank line before a field, not only at the end */
	unsigned n_crlf, n_lf, first_lf, first_crlf;
	unsigned version_line;		/* when version is not the first field */
	unsigned n_dot, first_dot;	/* mx patterns ending in '.' */
	size_t mx_cap, n_mx_dropped;
	struct dynbuf unknown;		/* "foo (line 3), bar (line 5)" */
	unsigned n_unknown_cut;		/* unknown keys that did not fit the list */
};

/* One finding about the policy; a CRITICAL one makes it invalid. */
static struct finding_occurrence *add(struct pctx *c, enum finding_code code, enum severity sev)
{
	if (sev == SEV_CRITICAL)
		c->invalid = true;
	return findings_add(c->fs, code, sev, c->subject);
}

/* One finding about a difference between senders (checks/senders.h), graded by its rule. */
static struct finding_occurrence *add_rule(struct pctx *c, enum finding_code code,
					   enum severity base, enum sender_rule sr)
{
	struct finding_occurrence *fo = senders_add(c->fs, code, base, c->subject, sr);

	if (base == SEV_CRITICAL)
		c->invalid = true;	/* this tool's reading: the policy is not used */
	return fo;
}

static void add_invalid(struct pctx *c, enum sender_rule sr, const char *what,
			const char *evidence, const char *fix)
{
	struct finding_occurrence *fo;

	if (sr) {
		fo = add_rule(c, F_POLICY_INVALID, SEV_CRITICAL, sr);
	} else {
		fo = add(c, F_POLICY_INVALID, SEV_CRITICAL);
		finding_set_consequence(fo, CONSEQ);
	}
	finding_set_what(fo, "%s", what);
	finding_set_evidence(fo, "%s", evidence);
	finding_set_fix(fo, "%s", fix);
}

/* The line errors held so far become findings (a field was read: this is a policy). */
static void release_held(struct pctx *c)
{
	struct finding_occurrence *fo;

	for (unsigned i = 0; i < c->n_held; i++)
		add_invalid(c, c->held[i].sr, c->held[i].what, c->held[i].evidence,
			    c->held[i].fix);
	if (c->n_held_more) {
		fo = add(c, F_POLICY_INVALID, SEV_CRITICAL);
		finding_set_what(fo, "%u more invalid lines, the first of them line %u",
				 c->n_held_more, c->first_held_more);
		finding_set_consequence(fo, CONSEQ);
	}
	c->n_held = c->n_held_more = 0;
}

static void line_error(struct pctx *c, enum sender_rule sr, unsigned line, const char *evidence,
		       const char *fix, const char *fmt, ...) PRINTF_LIKE(6, 7);

/*
 * policy.invalid for one line: what, the rule as evidence, the fix. Until the first field
 * is read the error is held: a body with no field at all (an error page) is one finding,
 * "not a policy", not one per line of HTML.
 */
static void line_error(struct pctx *c, enum sender_rule sr, unsigned line, const char *evidence,
		       const char *fix, const char *fmt, ...)
{
	char what[768], lw[sizeof(what) + 16];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
		bsnprintf(what, sizeof(what), "unprintable error");
	va_end(ap);
	bsnprintf(lw, sizeof(lw), "line %u: %s", line, what);
	if (c->n_fields) {
		add_invalid(c, sr, lw, evidence, fix);
		return;
	}
	c->invalid = true;
	if (c->n_held == HELD_ERR_MAX) {
		if (c->n_held_more++ == 0)
			c->first_held_more = line;
		return;
	}
	bsnprintf(c->held[c->n_held].what, sizeof(c->held[0].what), "%s", lw);
	bsnprintf(c->held[c->n_held].evidence, sizeof(c->held[0].evidence), "%s", evidence);
	bsnprintf(c->held[c->n_held].fix, sizeof(c->held[0].fix), "%s", fix);
	c->held[c->n_held].sr = sr;
	c->n_held++;
}

static bool equals(const char *v, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(v, lit, n) == 0;
}

/* Untrusted bytes made printable and bounded, with "..." when cut. */
static void show(char *dst, size_t dstlen, const char *s, size_t n)
{
	abnf_show(dst, dstlen, s, n, SHOW_LEN);
}

static int field_lookup(const char *k, size_t n)
{
	for (int f = 0; f < FIELD__COUNT; f++)
		if (equals(k, n, field_names[f]))
			return f;
	return -1;
}

/* A key that differs from a known one only in case, or -1. */
static int field_lookup_ci(const char *k, size_t n)
{
	for (int f = 0; f < FIELD__COUNT; f++)
		if (n == strlen(field_names[f]) && abnf_same_ci(k, field_names[f], n))
			return f;
	return -1;
}

/*
 * RFC 8461 3.2: "unknown fields SHOULD be ignored". The value must still be an
 * sts-policy-ext-value: one or more printable or UTF-8 characters, inner spaces only.
 */
static void unknown_key(struct pctx *c, const char *k, size_t kn, const char *v, size_t vn,
			unsigned line)
{
	struct finding_occurrence *fo;
	char sk[SHOW_BUF];
	int f = field_lookup_ci(k, kn);

	show(sk, sizeof(sk), k, kn);
	c->out->n_unknown++;
	if (dynbuf_printf(&c->unknown, "%s%s on line %u", c->unknown.len ? ", " : "", sk,
			  line) < 0)
		c->n_unknown_cut++;
	if (f >= 0) {
		/* RFC 8461 3.2: %s"mode" etc. are case-sensitive; lenient senders disagree */
		fo = add_rule(c, F_POLICY_NOTE, SEV_WARNING, SR_POL_KEY_CASE);
		finding_set_what(fo, "line %u: key \"%s\" differs from \"%s\" only in case", line,
				 sk, field_names[f]);
		finding_set_evidence(fo, "field names are case-sensitive, %%s in RFC 8461 3.2, so "
				     "this tool reads it as an unknown field");
		finding_set_fix(fo, "write \"%s\"", field_names[f]);
	}
	if (vn == 0) {
		/* most senders skip an unknown field whatever its value (pol.ext_empty_value) */
		fo = add_rule(c, F_POLICY_NOTE, SEV_INFO, SR_POL_EXT_EMPTY_VALUE);
		finding_set_what(fo, "line %u: key \"%s\" has an empty value", line, sk);
		finding_set_evidence(fo, "an extension value needs at least one character (RFC 8461 "
				     "3.2 sts-policy-ext-value)");
		finding_set_fix(fo, "give it a value or remove the line");
		return;
	}
	if (memchr(v, '\t', vn)) {
		line_error(c, SR_NONE, line, "an extension value holds spaces but no tabs (RFC 8461 "
			   "3.2 sts-policy-ext-value)", "replace the tab by a space",
			   "tab inside the value of \"%s\"", sk);
		return;
	}
	if (memchr(v, ':', vn)) {
		/* valid (sts-policy-vchar includes ':'), but maddy splits the line at every ':' */
		fo = add_rule(c, F_POLICY_NOTE, SEV_INFO, SR_POL_UNKNOWN_KEY_COLON);
		finding_set_what(fo, "line %u: the value of key \"%s\" holds ':'", line, sk);
		finding_set_evidence(fo, "RFC 8461 3.2 sts-policy-ext-value allows it");
		finding_set_fix(fo, "remove the line, or the ':' from its value");
	}
}

/* RFC 8461 3.2: "If any non-mx fields are duplicated, all entries except for the first
 * SHOULD be ignored." Senders that keep the last one would disagree when values differ. */
static void duplicate(struct pctx *c, int f, const char *v, size_t vn, unsigned line)
{
	struct finding_occurrence *fo;
	const struct seen *s = &c->seen[f];
	char a[SHOW_BUF], b[SHOW_BUF], times[32];

	show(a, sizeof(a), s->v, s->vn);
	show(b, sizeof(b), v, vn);
	if (s->count == 2)
		bsnprintf(times, sizeof(times), "twice");
	else
		bsnprintf(times, sizeof(times), "%u times", s->count);
	if (vn == s->vn && memcmp(v, s->v, vn) == 0) {
		fo = add(c, F_POLICY_NOTE, SEV_INFO);
		finding_set_what(fo, "%s given %s with the same value \"%s\"", field_names[f],
				 times, a);
		finding_set_evidence(fo, "lines %u and %u", s->line, line);
		finding_set_consequence(fo, "RFC 8461 3.2 uses the first, so senders agree");
		finding_set_fix(fo, "remove the duplicate");
	} else {
		enum sender_rule sr = f == FIELD_MODE ? SR_POL_DUP_MODE :
				      f == FIELD_MAX_AGE ? SR_POL_DUP_MAX_AGE : SR_NONE;

		fo = sr ? add_rule(c, F_POLICY_NOTE, SEV_WARNING, sr) :
		     add(c, F_POLICY_NOTE, SEV_WARNING);
		finding_set_what(fo, "%s given %s: %s (used) and %s", field_names[f], times, a, b);
		finding_set_evidence(fo, "lines %u and %u; RFC 8461 3.2: the first counts, senders "
				     "that keep the last use %s", s->line, line, b);
		if (!sr)
			finding_set_consequence(fo, "RFC 8461 3.2 says the first counts, parsers "
						"that keep the last would use %s", b);
		finding_set_fix(fo, "keep one %s line", field_names[f]);
	}
}

static void field_version(struct pctx *c, const char *v, size_t vn, unsigned line)
{
	struct finding_occurrence *fo;
	char sv[SHOW_BUF];

	/* RFC 8461 3.2 sts-policy-version = %s"version" sts-policy-field-delim %s"STSv1" */
	if (equals(v, vn, "STSv1")) {
		c->out->version_ok = true;
		return;
	}
	show(sv, sizeof(sv), v, vn);
	if (vn == 5 && abnf_same_ci(v, "STSv1", 5)) {
		fo = add_rule(c, F_POLICY_VERSION, SEV_CRITICAL, SR_POL_VERSION_CASE);
		finding_set_evidence(fo, "RFC 8461 3.2: the value is case-sensitive (%%s in the "
				     "ABNF)");
	} else {
		fo = add(c, F_POLICY_VERSION, SEV_CRITICAL);
		finding_set_evidence(fo, "RFC 8461 3.2");
		finding_set_consequence(fo, CONSEQ);
	}
	finding_set_what(fo, "line %u: version \"%s\" is not STSv1", line, sv);
	finding_set_fix(fo, "write \"version: STSv1\"");
}

static void field_mode(struct pctx *c, const char *v, size_t vn, unsigned line)
{
	static const struct {
		const char *name;
		enum policy_mode mode;
	} modes[] = {
		{ "enforce", POLICY_MODE_ENFORCE },
		{ "testing", POLICY_MODE_TESTING },
		{ "none", POLICY_MODE_NONE },
	};
	struct finding_occurrence *fo;
	const char *guess = NULL;
	char sv[SHOW_BUF];

	/* RFC 8461 3.2 sts-policy-mode = %s"mode" delim (%s"testing" / %s"enforce" / %s"none") */
	for (size_t i = 0; i < ARRAY_LEN(modes); i++)
		if (equals(v, vn, modes[i].name)) {
			c->out->mode = modes[i].mode;
			return;
		}
	show(sv, sizeof(sv), v, vn);
	for (size_t i = 0; i < ARRAY_LEN(modes); i++)
		if (vn == strlen(modes[i].name) && abnf_same_ci(v, modes[i].name, vn)) {
			fo = add_rule(c, F_POLICY_MODE, SEV_CRITICAL, SR_POL_MODE_VALUE_CASE);
			finding_set_what(fo, "line %u: mode \"%s\" is not one of enforce, testing, "
					 "none", line, sv);
			finding_set_evidence(fo, "the values are case-sensitive (%%s in RFC 8461 "
					     "3.2)");
			finding_set_fix(fo, "write \"mode: %s\"", modes[i].name);
			return;
		}
	fo = add(c, F_POLICY_MODE, SEV_CRITICAL);
	finding_set_consequence(fo, CONSEQ);
	if (vn >= 3 && abnf_same_ci(v, "enf", 3))
		guess = "enforce";
	else if (vn >= 4 && abnf_same_ci(v, "test", 4))
		guess = "testing";
	else if ((vn >= 2 && abnf_same_ci(v, "no", 2)) || (vn >= 3 && abnf_same_ci(v, "off", 3)))
		guess = "none";
	if (vn == 0) {
		finding_set_what(fo, "line %u: mode has no value", line);
		finding_set_evidence(fo, "RFC 8461 3.2: enforce, testing or none");
		finding_set_fix(fo, "write \"mode: enforce\" (or testing, none)");
	} else {
		finding_set_what(fo, "line %u: mode \"%s\" is not one of enforce, testing, none",
				 line, sv);
		finding_set_evidence(fo, "RFC 8461 3.2");
		finding_set_fix(fo, "write \"mode: %s\"%s", guess ? guess : "enforce",
				guess ? "" : " (or testing, none)");
	}
}

static void max_age_invalid(struct pctx *c, unsigned line, const char *what, const char *sv,
			    const char *evidence)
{
	struct finding_occurrence *fo = add(c, F_POLICY_MAX_AGE, SEV_CRITICAL);

	finding_set_what(fo, "line %u: max_age \"%s\" %s", line, sv, what);
	finding_set_evidence(fo, "%s", evidence);
	finding_set_consequence(fo, CONSEQ);
	finding_set_fix(fo, FIX_MAX_AGE);
}

/*
 * RFC 8461 3.2 sts-policy-max-age = %s"max_age" delim 1*10(DIGIT), at most 31557600. Most
 * senders read a leading '+' and more than ten digits as the number they spell (the rows
 * pol.max_age_sign, pol.max_age_11_digits): this tool does too, with a note.
 */
static void field_max_age(struct pctx *c, const char *v, size_t vn, unsigned line)
{
	struct finding_occurrence *fo;
	unsigned long long n = 0;
	const char *d = v;
	size_t dn = vn, sig;
	bool plus = vn > 1 && v[0] == '+';
	char sv[SHOW_BUF];

	show(sv, sizeof(sv), v, vn);
	if (plus) {
		d++;
		dn--;
	}
	for (size_t i = 0; i < dn; i++)
		if (d[i] < '0' || d[i] > '9') {
			max_age_invalid(c, line, "is not a number of seconds", sv,
					"RFC 8461 3.2: 1 to 10 digits");
			return;
		}
	if (vn == 0) {
		fo = add(c, F_POLICY_MAX_AGE, SEV_CRITICAL);
		finding_set_what(fo, "line %u: max_age has no value", line);
		finding_set_evidence(fo, "RFC 8461 3.2: 1 to 10 digits");
		finding_set_consequence(fo, CONSEQ);
		finding_set_fix(fo, FIX_MAX_AGE);
		return;
	}
	for (sig = 0; sig + 1 < dn && d[sig] == '0'; sig++)
		;
	if (dn - sig > MAX_AGE_DIGITS) {
		char what[64];

		bsnprintf(what, sizeof(what), "has %zu digits", dn);
		max_age_invalid(c, line, what, sv, "RFC 8461 3.2 allows 1 to 10");
		return;
	}
	for (size_t i = sig; i < dn; i++)
		n = n * 10 + (unsigned long long)(d[i] - '0');
	if (n > (unsigned long long)POLICY_MAX_AGE_MAX) {
		/* RFC 8461 3.2: "maximum value of 31557600" */
		fo = add_rule(c, F_POLICY_MAX_AGE, SEV_CRITICAL, SR_POL_MAX_AGE_ABOVE_MAX);
		finding_set_what(fo, "line %u: max_age %llu is above %ld", line, n,
				 POLICY_MAX_AGE_MAX);
		finding_set_evidence(fo, "one year, the RFC 8461 3.2 maximum");
		finding_set_fix(fo, "write at most %ld, e.g. \"max_age: 604800\"",
				POLICY_MAX_AGE_MAX);
		return;
	}
	if (plus) {
		fo = add_rule(c, F_POLICY_NOTE, SEV_INFO, SR_POL_MAX_AGE_SIGN);
		finding_set_what(fo, "line %u: max_age \"%s\" has a sign; this tool reads %llu",
				 line, sv, n);
		finding_set_evidence(fo, "RFC 8461 3.2: digits only");
		finding_set_fix(fo, "write \"max_age: %llu\"", n);
	}
	if (dn > MAX_AGE_DIGITS) {
		fo = add_rule(c, F_POLICY_NOTE, SEV_INFO, SR_POL_MAX_AGE_11_DIGITS);
		finding_set_what(fo, "line %u: max_age \"%s\" has %zu digits; this tool reads %llu",
				 line, sv, dn, n);
		finding_set_evidence(fo, "RFC 8461 3.2 allows 1 to %d", MAX_AGE_DIGITS);
		finding_set_fix(fo, "write \"max_age: %llu\"", n);
	}
	c->out->max_age = (long)n;
	if (n < (unsigned long long)ONE_DAY) {
		fo = add(c, F_POLICY_MAX_AGE, SEV_WARNING);
		finding_set_what(fo, "line %u: max_age %llu is under one day", line, n);
		finding_set_evidence(fo, "86400 s; RFC 8461 3.2 expects weeks or more");
		finding_set_consequence(fo, "a short max_age leaves senders unprotected between "
					"fetches, when an attacker can block the fetch");
		finding_set_fix(fo, "write e.g. \"max_age: 604800\" (one week) or more");
	}
}

/* The sender-profile row of an invalid pattern, where senders read it differently. */
static enum sender_rule bad_pattern_rule(const char *v, size_t vn)
{
	const char *star;

	if (vn == 0)
		return SR_POL_MX_EMPTY;
	if (vn == 1 && v[0] == '*')
		return SR_POL_MX_STAR_ALONE;
	if (vn > 2 && v[0] == '*' && v[1] == '.')
		return memchr(v + 2, '*', vn - 2) ? SR_POL_MX_DOUBLE_WILDCARD : SR_NONE;
	star = memchr(v, '*', vn);
	/* "a.*.example.com": a whole label '*' that is not the first */
	if (star && star > v && star[-1] == '.' && (size_t)(star - v) + 1 < vn && star[1] == '.')
		return SR_POL_MX_INNER_WILDCARD;
	return SR_NONE;
}

/* Is the domain of a pattern an IPv4 address in dotted-decimal form (RFC 1123 2.1)? */
static bool dotted_quad(const char *d)
{
	unsigned labels = 0, digits = 0;

	for (; *d; d++) {
		if (*d == '.') {
			if (!digits)
				return false;
			labels++;
			digits = 0;
		} else if (*d >= '0' && *d <= '9' && digits < 3) {
			digits++;
		} else {
			return false;
		}
	}
	return digits && labels == 3;
}

/* A U-label pattern: invalid (patterns are A-labels), and the fix shows the A-label. */
static void ulabel_pattern(struct pctx *c, const char *pat, const char *sv, unsigned line)
{
	struct finding_occurrence *fo;
	bool wild = pat[0] == '*' && pat[1] == '.';
	char alabel[PATTERN_COPY + 1];

	fo = add_rule(c, F_POLICY_INVALID, SEV_CRITICAL, SR_POL_MX_ULABEL);
	finding_set_what(fo, "line %u: mx pattern \"%s\" is not in A-labels", line, sv);
	finding_set_evidence(fo, "RFC 8461 3.2 wants [\"*.\"] Domain, and a Domain (RFC 5321) is "
			     "ASCII: internationalized names are written as A-labels (RFC 5890)");
	if (dns_name_to_alabel(wild ? pat + 2 : pat, alabel, sizeof(alabel)) == 0)
		finding_set_fix(fo, "write \"mx: %s%s\"", wild ? "*." : "", alabel);
	else
		finding_set_fix(fo, "write the name as A-labels (xn--...); it is not a valid "
				"internationalized name either");
}

static void field_mx(struct pctx *c, const char *v, size_t vn, unsigned line)
{
	struct finding_occurrence *fo;
	char pat[PATTERN_COPY + 1], why[256], sv[SHOW_BUF];
	const char *dom;
	enum sender_rule sr;
	bool ok, non_ascii = false;

	/* RFC 8461 3.2 sts-policy-mx = %s"mx" delim ["*."] Domain */
	for (size_t i = 0; i < vn && !non_ascii; i++)
		non_ascii = (unsigned char)v[i] >= 0x80;
	show(sv, sizeof(sv), v, vn);
	if (vn > PATTERN_COPY) {
		ok = false;
		bsnprintf(why, sizeof(why), "%zu characters; a DNS name holds at most 253", vn);
	} else {
		memcpy(pat, v, vn);
		pat[vn] = '\0';
		if (non_ascii && !memchr(v, ' ', vn)) {
			ulabel_pattern(c, pat, sv, line);
			return;
		}
		ok = mx_pattern_valid(pat, why, sizeof(why));
	}
	if (!ok) {
		/* every bad pattern is an occurrence: the findings layer bounds the list */
		sr = bad_pattern_rule(v, vn);
		if (sr) {
			fo = add_rule(c, F_POLICY_INVALID, SEV_CRITICAL, sr);
		} else {
			fo = add(c, F_POLICY_INVALID, SEV_CRITICAL);
			finding_set_consequence(fo, CONSEQ);
		}
		finding_set_what(fo, "line %u: mx pattern \"%s\" is invalid: %s", line, sv, why);
		finding_set_evidence(fo, "RFC 8461 3.2 wants [\"*.\"] Domain");
		finding_set_fix(fo, "%s", memchr(v, ',', vn) || memchr(v, ' ', vn) ?
				"write one pattern per mx line" :
				"write a host name, or \"*.\" and a domain, per mx line");
		return;
	}
	dom = pat[0] == '*' ? pat + 2 : pat;
	if (dotted_quad(dom)) {
		/* a Domain by the ABNF, never a host name (RFC 1123 2.1) */
		fo = add_rule(c, F_POLICY_NOTE, SEV_INFO, dom == pat ? SR_POL_MX_IPV4 :
			      SR_POL_MX_WILDCARD_IPV4);
		finding_set_what(fo, "line %u: mx pattern \"%s\" is an IP address", line, sv);
		finding_set_evidence(fo, "RFC 8461 3.2 wants [\"*.\"] Domain; MX records name hosts, "
				     "and RFC 1123 2.1 keeps host names out of the dotted-decimal "
				     "form");
		finding_set_fix(fo, "write the MX host's name, as in the MX record");
	}
	/*
	 * RFC 5321 Domain has no trailing dot, so the strict reading rejects "mx.example.com.".
	 * Matching ignores a trailing dot (RFC 8461 4.1 compares names), so this tool keeps
	 * the policy valid and warns, because senders that compare text literally disagree.
	 */
	if (pat[vn - 1] == '.' && c->n_dot++ == 0)
		c->first_dot = line;
	if (c->out->n_mx >= POLICY_MAX_MX) {
		c->n_mx_dropped++;
		return;
	}
	if (c->out->n_mx == c->mx_cap) {
		c->mx_cap = c->mx_cap ? c->mx_cap * 2 : 8;
		c->out->mx = xrealloc(c->out->mx, c->mx_cap * sizeof(*c->out->mx));
	}
	c->out->mx[c->out->n_mx++] = xstrndup(v, vn);
}

/* Check the bytes of one line: no NUL, no control byte but HTAB, valid UTF-8. */
static bool line_bytes_ok(struct pctx *c, const char *s, size_t n, unsigned line)
{
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		size_t k;

		if (ch == 0) {
			line_error(c, SR_NONE, line, "RFC 8461 3.2 allows printable text only",
				   "serve the policy as plain text", "NUL byte at column %zu", i + 1);
			return false;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			line_error(c, SR_NONE, line, "RFC 8461 3.2 allows printable text only",
				   "remove the control character", "control byte 0x%02x at column %zu",
				   ch, i + 1);
			return false;
		}
		k = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!k) {
			line_error(c, SR_NONE, line, "RFC 8461 3.2 allows UTF-8 in extension values only",
				   "save the file as UTF-8 (or plain ASCII)",
				   "invalid UTF-8, byte 0x%02x at column %zu", ch, i + 1);
			return false;
		}
		i += k;
	}
	return true;
}

/* Only the characters of an extension name: a key that breaks only its first-character or
 * length rule ("_comment"), which senders that skip unknown fields skip as well. */
static bool name_chars(const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!abnf_is_alnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '-' && k[i] != '.')
			return false;
	return n > 0;
}

/* One line without its terminator. */
static void parse_line(struct pctx *c, const char *s, size_t n, unsigned line)
{
	const char *colon, *v;
	char sl[SHOW_BUF], sk[SHOW_BUF];
	size_t kn, vn, i;
	bool bad_name;
	int f;

	for (i = 0; i < n && abnf_is_wsp(s[i]); i++)
		;
	if (i == n) {
		/*
		 * RFC 8461 3.2: the ABNF has no empty line (not between fields, not several
		 * at the end). Common senders skip blank and whitespace-only lines, so this
		 * tool treats the policy as valid and adds a note instead.
		 */
		if (c->n_blank++ == 0)
			c->first_blank = line;
		return;
	}
	if (!line_bytes_ok(c, s, n, line))
		return;
	show(sl, sizeof(sl), s, n);
	if (abnf_is_wsp(s[0])) {
		line_error(c, SR_POL_WS_BEFORE_KEY, line, "each line starts with the key (RFC 8461 "
			   "3.2)",
			   "remove the indentation", "leading whitespace before the key (\"%s\")",
			   sl);
		return;
	}
	colon = memchr(s, ':', n);
	if (!colon) {
		line_error(c, SR_POL_LINE_WITHOUT_COLON, line, "RFC 8461 3.2: each line is key \":\" "
			   "value",
			   "write every line as \"key: value\"", "\"%s\" has no ':'", sl);
		return;
	}
	kn = (size_t)(colon - s);
	if (kn == 0) {
		line_error(c, SR_NONE, line, "RFC 8461 3.2: each line is key \":\" value",
			   "write every line as \"key: value\"", "empty key before ':' in \"%s\"",
			   sl);
		return;
	}
	show(sk, sizeof(sk), s, kn);
	bad_name = !abnf_ext_name_valid(s, kn);
	if (bad_name && !name_chars(s, kn)) {
		bool wsp = abnf_is_wsp(s[kn - 1]);

		line_error(c, wsp ? SR_POL_WS_BEFORE_COLON : SR_NONE, line, wsp ?
			   "RFC 8461 3.2: a letter or digit, then up to 31 letters, digits, '_', "
			   "'-' or '.', no whitespace before ':'" :
			   "RFC 8461 3.2: a letter or digit, then up to 31 letters, digits, '_', "
			   "'-' or '.'", wsp ? "remove the space before ':'" : "correct the key",
			   "key \"%s\" is not a field name", sk);
		return;
	}
	/* sts-policy-field-delim = ":" *WSP; the record allows *WSP after every value */
	v = colon + 1;
	vn = n - kn - 1;
	while (vn && abnf_is_wsp(*v)) {
		v++;
		vn--;
	}
	while (vn && abnf_is_wsp(v[vn - 1]))
		vn--;
	if (c->n_fields++ == 0)
		release_held(c);	/* a field: this is a policy, its bad lines count one by one */
	if (c->n_blank > c->n_blank_last)
		c->blank_inside = true;	/* a blank line stands between fields */
	c->n_blank_last = c->n_blank;
	if (bad_name) {
		/* "_comment": most senders skip a field they do not know (pol.ext_bad_name) */
		struct finding_occurrence *fo = add_rule(c, F_POLICY_NOTE, SEV_INFO,
							 SR_POL_EXT_BAD_NAME);

		finding_set_what(fo, "line %u: key \"%s\" is not a field name", line, sk);
		finding_set_evidence(fo, "RFC 8461 3.2 sts-policy-ext-name: a letter or digit, then "
				     "up to 31 letters, digits, '_', '-' or '.'");
		finding_set_fix(fo, "correct the key or remove the line");
	}
	f = field_lookup(s, kn);
	if (f < 0) {
		unknown_key(c, s, kn, v, vn, line);
		return;
	}
	if (f == FIELD_VERSION && c->n_fields > 1 && c->seen[f].count == 0)
		c->version_line = line;
	if (c->seen[f].count++ == 0) {
		c->seen[f].line = line;
		c->seen[f].v = v;
		c->seen[f].vn = vn;
	} else if (f != FIELD_MX) {
		duplicate(c, f, v, vn, line);
		return;
	}
	switch ((enum field)f) {
	case FIELD_VERSION:
		field_version(c, v, vn, line);
		break;
	case FIELD_MODE:
		field_mode(c, v, vn, line);
		break;
	case FIELD_MAX_AGE:
		field_max_age(c, v, vn, line);
		break;
	case FIELD_MX:
		field_mx(c, v, vn, line);
		break;
	case FIELD__COUNT:
		break;
	}
}

static void missing(struct pctx *c, enum finding_code code, const char *what,
		    const char *evidence, const char *fix)
{
	struct finding_occurrence *fo = add(c, code, SEV_CRITICAL);

	finding_set_what(fo, "%s", what);
	finding_set_evidence(fo, "%s", evidence);
	finding_set_consequence(fo, CONSEQ);
	finding_set_fix(fo, "%s", fix);
}

/* Required fields: RFC 8461 3.2 "If any field is not specified, the policy SHALL be
 * treated as invalid"; mx may be absent with mode none. */
static void missing_fields(struct pctx *c)
{
	if (!c->seen[FIELD_VERSION].count) {
		struct finding_occurrence *fo = add_rule(c, F_POLICY_VERSION, SEV_CRITICAL,
							 SR_POL_VERSION_MISSING);

		finding_set_what(fo, "no version field");
		finding_set_evidence(fo, "RFC 8461 3.2 requires \"version: STSv1\"");
		finding_set_fix(fo, "add \"version: STSv1\" as the first line");
	}
	if (!c->seen[FIELD_MODE].count)
		missing(c, F_POLICY_MODE, "no mode field",
			"RFC 8461 3.2 requires one of enforce, testing, none",
			"add \"mode: testing\" or \"mode: enforce\"");
	if (!c->seen[FIELD_MAX_AGE].count)
		missing(c, F_POLICY_MAX_AGE, "no max_age field", "RFC 8461 3.2 requires it",
			"add e.g. \"max_age: 604800\" (one week)");
	if (!c->seen[FIELD_MX].count && c->out->mode != POLICY_MODE_NONE)
		missing(c, F_POLICY_MX_MISSING, "no mx field",
			"RFC 8461 3.2 requires at least one unless mode is none",
			"add one \"mx:\" line per MX host (or \"*.\" and their domain)");
}

/* Notes about the whole file, after the last line. */
static void file_notes(struct pctx *c)
{
	struct finding_occurrence *fo;
	struct policy *p = c->out;

	if (c->version_line) {
		fo = add(c, F_POLICY_NOTE, SEV_INFO);
		finding_set_what(fo, "version is on line %u, not the first field", c->version_line);
		finding_set_evidence(fo, "the ABNF (RFC 8461 3.2) allows any order, the RFC "
				     "examples list it first");
		finding_set_consequence(fo, "senders accept it");
		finding_set_fix(fo, "move \"version: STSv1\" to the top");
	}
	if (p->mode == POLICY_MODE_TESTING) {
		fo = add(c, F_POLICY_MODE_TESTING, SEV_INFO);
		finding_set_what(fo, "mode testing");
		finding_set_consequence(fo, "senders deliver even when an MX fails the MTA-STS "
					"checks and only report it by TLS-RPT (RFC 8461 5)");
		finding_set_fix(fo, "switch to \"mode: enforce\" once the reports are clean");
	} else if (p->mode == POLICY_MODE_NONE) {
		fo = add(c, F_POLICY_MODE_NONE, SEV_INFO);
		finding_set_what(fo, "mode none");
		finding_set_consequence(fo, "senders treat the domain as having no MTA-STS policy "
					"(RFC 8461 5)");
		finding_set_fix(fo, "right while retiring MTA-STS (RFC 8461 8.3), otherwise publish "
				"testing or enforce");
	}
	if (p->n_unknown) {
		fo = add(c, F_POLICY_UNKNOWN_KEY, SEV_INFO);
		finding_set_what(fo, "%u unknown key%s", p->n_unknown, p->n_unknown == 1 ? "" : "s");
		finding_set_evidence(fo, "%s%s", c->unknown.buf ? c->unknown.buf : "",
				     c->n_unknown_cut ? ", ..." : "");
		finding_set_consequence(fo, "senders skip them, as RFC 8461 3.2 says");
		finding_set_fix(fo, "check them for typos or remove them");
	}
	if (c->n_mx_dropped) {
		fo = add(c, F_POLICY_NOTE, SEV_WARNING);
		finding_set_what(fo, "the policy lists %zu mx patterns; this tool keeps the first %d "
				 "and ignores %zu", p->n_mx + c->n_mx_dropped, POLICY_MAX_MX,
				 c->n_mx_dropped);
		finding_set_consequence(fo, "MX hosts covered only by later patterns show as "
					"unmatched");
		finding_set_fix(fo, "merge hosts under \"*.\" patterns");
	}
	if (c->n_dot) {
		fo = add_rule(c, F_POLICY_NOTE, SEV_WARNING, SR_POL_MX_TRAILING_DOT);
		finding_set_what(fo, "line %u%s: mx pattern ends with '.'", c->first_dot,
				 c->n_dot > 1 ? " and others" : "");
		finding_set_evidence(fo, "RFC 5321 Domain (RFC 8461 3.2) has no trailing dot; this "
				     "tool ignores the dot when matching");
		finding_set_fix(fo, "remove the dot");
	}
	if (c->n_blank) {
		/* the ABNF has no empty line; most senders skip it and so does this tool */
		fo = add_rule(c, F_POLICY_NOTE, SEV_INFO, c->blank_inside ? SR_POL_BLANK_LINE :
			      SR_POL_TRAILING_BLANK_LINE);
		finding_set_what(fo, "%u blank line%s%s", c->n_blank, c->n_blank == 1 ? "" : "s",
				 c->blank_inside ? "" : " at the end");
		finding_set_evidence(fo, "the first at line %u; the ABNF (RFC 8461 3.2) has no "
				     "empty lines", c->first_blank);
		finding_set_fix(fo, "remove %s", c->n_blank == 1 ? "it" : "them");
	}
	if (p->mode == POLICY_MODE_NONE && !c->seen[FIELD_MX].count) {
		fo = add_rule(c, F_POLICY_NOTE, SEV_INFO, SR_POL_NONE_WITHOUT_MX);
		finding_set_what(fo, "mode none without an mx line");
		finding_set_evidence(fo, "RFC 8461 3.2 allows it: mx is required unless mode is "
				     "none");
		finding_set_fix(fo, "keep an mx line of the last policy while retiring MTA-STS");
	}
	p->eol = c->n_crlf && c->n_lf ? POLICY_EOL_MIXED : c->n_crlf ? POLICY_EOL_CRLF :
		 c->n_lf ? POLICY_EOL_LF : POLICY_EOL_NONE;
	if (p->eol == POLICY_EOL_LF) {
		fo = add(c, F_POLICY_LINE_ENDINGS, SEV_INFO);
		finding_set_what(fo, "lines end in LF only");
		finding_set_evidence(fo, "%u lines; RFC 8461 3.2 shows CRLF but its ABNF accepts LF "
				     "(sts-policy-term = LF / CRLF)", c->n_lf);
		finding_set_consequence(fo, "senders read it");
		finding_set_fix(fo, "CRLF is the reference if you edit the file");
	} else if (p->eol == POLICY_EOL_MIXED) {
		fo = add(c, F_POLICY_LINE_ENDINGS, SEV_INFO);
		finding_set_what(fo, "mixed line endings: %u CRLF and %u LF-only", c->n_crlf, c->n_lf);
		finding_set_evidence(fo, "first LF-only on line %u, first CRLF on line %u; the ABNF "
				     "(RFC 8461 3.2) accepts both per line", c->first_lf,
				     c->first_crlf);
		finding_set_consequence(fo, "senders read it");
		finding_set_fix(fo, "use CRLF throughout");
	}
}

/* A body without a single "key: value" line (an empty file, an error page). */
static void not_a_policy(struct pctx *c, const char *body, size_t len)
{
	struct finding_occurrence *fo = add(c, F_POLICY_INVALID, SEV_CRITICAL);
	char start[SHOW_BUF];

	show(start, sizeof(start), body, len);
	finding_set_what(fo, "no \"key: value\" line at all: this is not an MTA-STS policy");
	if (c->n_held + c->n_held_more > 1)
		finding_set_evidence(fo, "%zu bytes, starting \"%s\"; %s; %u more invalid line%s; "
				     "RFC 8461 3.2", len, start, c->held[0].what,
				     c->n_held + c->n_held_more - 1,
				     c->n_held + c->n_held_more == 2 ? "" : "s");
	else if (c->n_held)
		finding_set_evidence(fo, "%zu bytes, starting \"%s\"; %s; RFC 8461 3.2", len, start,
				     c->held[0].what);
	else
		finding_set_evidence(fo, "%zu bytes%s%s%s; RFC 8461 3.2", len,
				     len ? ", starting \"" : "", start, len ? "\"" : "");
	finding_set_consequence(fo, CONSEQ);
	finding_set_fix(fo, "serve version, mode, mx and max_age lines");
}

const char *policy_mode_str(enum policy_mode mode)
{
	switch (mode) {
	case POLICY_MODE_NONE:
		return "none";
	case POLICY_MODE_TESTING:
		return "testing";
	case POLICY_MODE_ENFORCE:
		return "enforce";
	case POLICY_MODE_UNSET:
		break;
	}
	return "unset";
}

int policy_parse(const char *body, size_t len, struct policy *out, struct findings *fs,
		 const char *subject)
{
	struct pctx ctx, *c = &ctx;
	size_t pos = 0;
	unsigned line = 1;
	bool valid;

	memset(out, 0, sizeof(*out));
	out->max_age = -1;
	memset(c, 0, sizeof(*c));
	c->out = out;
	c->fs = fs;
	c->subject = subject;
	dynbuf_init(&c->unknown, 480);
	if (!body)
		len = 0;
	if (len > POLICY_MAX_BODY) {
		struct finding_occurrence *fo = add(c, F_POLICY_TOO_LARGE, SEV_CRITICAL);

		finding_set_what(fo, "the policy has %zu bytes, more than %d", len, POLICY_MAX_BODY);
		finding_set_evidence(fo, "RFC 8461 3.3 lets senders stop reading at 64 KiB");
		finding_set_consequence(fo, "senders treat it as no policy");
		finding_set_fix(fo, "shorten it");
		goto out;
	}
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		line_error(c, SR_NONE, 1, "the ABNF (RFC 8461 3.2) allows nothing before the first key",
			   "save the file as UTF-8 without a byte order mark",
			   "the file starts with a UTF-8 byte order mark (EF BB BF)");
		pos = 3;
	}
	while (pos < len) {
		size_t e = pos, next;

		while (e < len && body[e] != '\n' && body[e] != '\r')
			e++;
		if (e == len) {
			next = len;	/* [sts-policy-term] after the last field is optional */
		} else if (body[e] == '\n') {
			if (c->n_lf++ == 0)
				c->first_lf = line;
			next = e + 1;
		} else if (e + 1 < len && body[e + 1] == '\n') {
			if (c->n_crlf++ == 0)
				c->first_crlf = line;
			next = e + 2;
		} else {
			/* RFC 8461 3.2 sts-policy-term = LF / CRLF: a lone CR ends nothing */
			line_error(c, SR_POL_CR_ONLY, line, "lines end with CRLF or LF (RFC 8461 3.2 "
				   "sts-policy-term)",
				   "end every line with CRLF (or LF)",
				   "carriage return (\\r) not followed by a line feed");
			next = e + 1;
		}
		parse_line(c, body + pos, e - pos, line);
		line++;
		pos = next;
	}
	if (c->n_fields == 0)
		not_a_policy(c, body ? body : "", len);	/* one finding says it all */
	else
		missing_fields(c);
	file_notes(c);
out:
	valid = !c->invalid;
	dynbuf_free(&c->unknown);
	out->valid = valid;
	return valid ? 0 : -1;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n_mx; i++)
		free(p->mx[i]);
	free(p->mx);
	memset(p, 0, sizeof(*p));
	p->max_age = -1;
}

void policy_copy(struct policy *dst, const struct policy *src)
{
	if (dst == src)
		return;
	*dst = *src;
	dst->mx = NULL;
	if (!src->n_mx)
		return;
	dst->mx = xcalloc(src->n_mx, sizeof(*dst->mx));
	for (size_t i = 0; i < src->n_mx; i++)
		dst->mx[i] = xstrdup(src->mx[i]);
}
