/* policy: the MTA-STS policy file, parsed as RFC 8461 section 3.2 says. */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx_match.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define EXT_NAME_MAX 32
#define SHOW_LEN 64		/* bytes of a line or value quoted in a message */
#define SHOW_BUF (SHOW_LEN * 4 + 4)
#define LINE_ERR_MAX 3		/* invalid lines reported one by one; the rest are counted */
#define MX_ERR_MAX 8		/* likewise for invalid mx patterns */
#define PATTERN_COPY 300	/* longer than any valid pattern (253) */
#define ONE_DAY 86400L
#define MAX_AGE_DIGITS 10

/* What senders do with a policy that breaks a rule of RFC 8461 3.2. */
#define CONSEQ "senders treat the whole policy as invalid and fall back to no MTA-STS"

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

struct pctx {
	struct policy *out;
	struct findings *fs;
	const char *subject;
	struct seen seen[FIELD__COUNT];
	size_t n_fields;		/* lines that are key: value */
	unsigned n_line_err, extra_err_line;
	unsigned n_mx_err, extra_mx_line;
	unsigned n_blank, first_blank;
	unsigned n_crlf, n_lf, first_lf, first_crlf;
	unsigned version_line;		/* when version is not the first field */
	unsigned n_dot, first_dot;	/* mx patterns ending in '.' */
	size_t mx_cap, n_mx_dropped;
	struct dynbuf unknown;		/* "foo (line 3), bar (line 5)" */
	unsigned n_unknown_cut;		/* unknown keys that did not fit the list */
};

static void line_error(struct pctx *c, unsigned line, const char *fix, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

/* policy.invalid for one line: what, evidence, consequence, fix; the first few only. */
static void line_error(struct pctx *c, unsigned line, const char *fix, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	if (c->n_line_err++ >= LINE_ERR_MAX) {
		if (!c->extra_err_line)
			c->extra_err_line = line;
		return;
	}
	va_start(ap, fmt);
	if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
		bsnprintf(what, sizeof(what), "unprintable error");
	va_end(ap);
	findings_add(c->fs, F_POLICY_INVALID, SEV_CRITICAL, c->subject, "line %u: %s; %s; %s",
		     line, what, CONSEQ, fix);
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
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

static bool equals(const char *v, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(v, lit, n) == 0;
}

/* Untrusted bytes made printable and bounded, with "..." when cut. */
static void show(char *dst, size_t dstlen, const char *s, size_t n)
{
	printable_copy(dst, dstlen, s, n < SHOW_LEN ? n : SHOW_LEN);
	if ((n > SHOW_LEN || memchr(s, '\0', n < SHOW_LEN ? n : SHOW_LEN)) &&
	    strlen(dst) + 4 < dstlen)
		strcat(dst, "...");
}

/* Length of one UTF-8 sequence as RFC 3629 defines UTF8-2/3/4, or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t k;

	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return k;
}

/* RFC 8461 3.2 sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
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
		if (n == strlen(field_names[f]) && same_ci(k, field_names[f], n))
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
	char sk[SHOW_BUF];
	int f = field_lookup_ci(k, kn);

	show(sk, sizeof(sk), k, kn);
	c->out->n_unknown++;
	if (dynbuf_printf(&c->unknown, "%s%s (line %u)", c->unknown.len ? ", " : "", sk,
			  line) < 0)
		c->n_unknown_cut++;
	if (f >= 0)
		/* RFC 8461 3.2: %s"mode" etc. are case-sensitive; lenient senders disagree */
		findings_add(c->fs, F_POLICY_NOTE, SEV_WARNING, c->subject,
			     "line %u: key \"%s\" differs from \"%s\" only in case; field names "
			     "are case-sensitive (%%s in RFC 8461 3.2), so strict senders ignore "
			     "the line as an unknown field while senders that compare keys "
			     "case-insensitively read it as %s; write \"%s\"", line, sk,
			     field_names[f], field_names[f], field_names[f]);
	if (vn == 0) {
		line_error(c, line, "give it a value or remove the line",
			   "key \"%s\" has an empty value; an extension value needs at least one "
			   "character (RFC 8461 3.2 sts-policy-ext-value); senders that skip "
			   "unknown fields accept it, strict parsers do not", sk);
		return;
	}
	if (memchr(v, '\t', vn))
		line_error(c, line, "replace the tab by a space",
			   "tab inside the value of \"%s\"; an extension value holds spaces but no "
			   "tabs (RFC 8461 3.2 sts-policy-ext-value)", sk);
}

/* RFC 8461 3.2: "If any non-mx fields are duplicated, all entries except for the first
 * SHOULD be ignored." Senders that keep the last one would disagree when values differ. */
static void duplicate(struct pctx *c, int f, const char *v, size_t vn, unsigned line)
{
	const struct seen *s = &c->seen[f];
	char a[SHOW_BUF], b[SHOW_BUF], times[32];

	show(a, sizeof(a), s->v, s->vn);
	show(b, sizeof(b), v, vn);
	if (s->count == 2)
		bsnprintf(times, sizeof(times), "twice");
	else
		bsnprintf(times, sizeof(times), "%u times", s->count);
	if (vn == s->vn && memcmp(v, s->v, vn) == 0)
		findings_add(c->fs, F_POLICY_NOTE, SEV_INFO, c->subject,
			     "%s given %s with the same value \"%s\" (lines %u and %u); RFC 8461 "
			     "3.2 uses the first, so senders agree; remove the duplicate",
			     field_names[f], times, a, s->line, line);
	else
		findings_add(c->fs, F_POLICY_NOTE, SEV_WARNING, c->subject,
			     "%s given %s: %s (used) and %s (lines %u and %u); RFC 8461 3.2 says "
			     "the first counts, parsers that keep the last would use %s; keep one "
			     "%s line", field_names[f], times, a, b, s->line, line, b,
			     field_names[f]);
}

static void field_version(struct pctx *c, const char *v, size_t vn, unsigned line)
{
	char sv[SHOW_BUF];

	/* RFC 8461 3.2 sts-policy-version = %s"version" sts-policy-field-delim %s"STSv1" */
	if (equals(v, vn, "STSv1")) {
		c->out->version_ok = true;
		return;
	}
	show(sv, sizeof(sv), v, vn);
	findings_add(c->fs, F_POLICY_VERSION, SEV_CRITICAL, c->subject,
		     "line %u: version \"%s\" is not STSv1 (RFC 8461 3.2)%s; %s; write "
		     "\"version: STSv1\"", line, sv,
		     vn == 5 && same_ci(v, "STSv1", 5) ?
		     ": the value is case-sensitive (%s in the ABNF)" : "", CONSEQ);
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
		if (vn == strlen(modes[i].name) && same_ci(v, modes[i].name, vn)) {
			findings_add(c->fs, F_POLICY_MODE, SEV_CRITICAL, c->subject,
				     "line %u: mode \"%s\" is not one of enforce, testing, none: "
				     "the values are case-sensitive (%%s in RFC 8461 3.2); %s; "
				     "write \"mode: %s\"", line, sv, CONSEQ, modes[i].name);
			return;
		}
	if (vn >= 3 && same_ci(v, "enf", 3))
		guess = "enforce";
	else if (vn >= 4 && same_ci(v, "test", 4))
		guess = "testing";
	else if ((vn >= 2 && same_ci(v, "no", 2)) || (vn >= 3 && same_ci(v, "off", 3)))
		guess = "none";
	if (vn == 0)
		findings_add(c->fs, F_POLICY_MODE, SEV_CRITICAL, c->subject,
			     "line %u: mode has no value (RFC 8461 3.2: enforce, testing or none); "
			     "%s; write \"mode: enforce\" (or testing, none)", line, CONSEQ);
	else
		findings_add(c->fs, F_POLICY_MODE, SEV_CRITICAL, c->subject,
			     "line %u: mode \"%s\" is not one of enforce, testing, none (RFC 8461 "
			     "3.2); %s; write \"mode: %s\"%s", line, sv, CONSEQ,
			     guess ? guess : "enforce", guess ? "" : " (or testing, none)");
}

static void field_max_age(struct pctx *c, const char *v, size_t vn, unsigned line)
{
	unsigned long long n = 0;
	char sv[SHOW_BUF];

	show(sv, sizeof(sv), v, vn);
	/* RFC 8461 3.2 sts-policy-max-age = %s"max_age" delim 1*10(DIGIT) */
	for (size_t i = 0; i < vn; i++)
		if (v[i] < '0' || v[i] > '9') {
			findings_add(c->fs, F_POLICY_MAX_AGE, SEV_CRITICAL, c->subject,
				     "line %u: max_age \"%s\" is not a number of seconds (RFC 8461 "
				     "3.2: 1 to 10 digits); %s; write e.g. \"max_age: 604800\" "
				     "(one week)", line, sv, CONSEQ);
			return;
		}
	if (vn == 0) {
		findings_add(c->fs, F_POLICY_MAX_AGE, SEV_CRITICAL, c->subject,
			     "line %u: max_age has no value (RFC 8461 3.2: 1 to 10 digits); %s; "
			     "write e.g. \"max_age: 604800\" (one week)", line, CONSEQ);
		return;
	}
	if (vn > MAX_AGE_DIGITS) {
		findings_add(c->fs, F_POLICY_MAX_AGE, SEV_CRITICAL, c->subject,
			     "line %u: max_age \"%s\" has %zu digits; RFC 8461 3.2 allows 1 to %d; "
			     "%s; write e.g. \"max_age: 604800\" (one week)", line, sv, vn,
			     MAX_AGE_DIGITS, CONSEQ);
		return;
	}
	for (size_t i = 0; i < vn; i++)
		n = n * 10 + (unsigned long long)(v[i] - '0');
	if (n > (unsigned long long)POLICY_MAX_AGE_MAX) {
		/* RFC 8461 3.2: "maximum value of 31557600" */
		findings_add(c->fs, F_POLICY_MAX_AGE, SEV_CRITICAL, c->subject,
			     "line %u: max_age %llu is above %ld (one year, the RFC 8461 3.2 "
			     "maximum); strict senders treat the whole policy as invalid and fall "
			     "back to no MTA-STS, some clamp it to one year instead; write at most "
			     "%ld, e.g. \"max_age: 604800\"", line, n, POLICY_MAX_AGE_MAX,
			     POLICY_MAX_AGE_MAX);
		return;
	}
	c->out->max_age = (long)n;
	if (n < (unsigned long long)ONE_DAY)
		findings_add(c->fs, F_POLICY_MAX_AGE, SEV_WARNING, c->subject,
			     "line %u: max_age %llu is under one day (86400 s); RFC 8461 3.2 "
			     "expects weeks or more; a short max_age leaves senders unprotected "
			     "between fetches, when an attacker can block the fetch; write e.g. "
			     "\"max_age: 604800\" (one week) or more", line, n);
}

static void field_mx(struct pctx *c, const char *v, size_t vn, unsigned line)
{
	char pat[PATTERN_COPY + 1], why[256], sv[SHOW_BUF];
	bool ok;

	/* RFC 8461 3.2 sts-policy-mx = %s"mx" delim ["*."] Domain */
	if (vn > PATTERN_COPY) {
		ok = false;
		bsnprintf(why, sizeof(why), "%zu characters; a DNS name holds at most 253", vn);
	} else {
		memcpy(pat, v, vn);
		pat[vn] = '\0';
		ok = mx_pattern_valid(pat, why, sizeof(why));
	}
	if (!ok) {
		if (c->n_mx_err++ >= MX_ERR_MAX) {
			if (!c->extra_mx_line)
				c->extra_mx_line = line;
			return;
		}
		show(sv, sizeof(sv), v, vn);
		findings_add(c->fs, F_POLICY_INVALID, SEV_CRITICAL, c->subject,
			     "line %u: mx pattern \"%s\" is invalid: %s; RFC 8461 3.2 wants "
			     "[\"*.\"] Domain; %s; %s", line, sv, why, CONSEQ,
			     memchr(v, ',', vn) || memchr(v, ' ', vn) ?
			     "write one pattern per mx line" :
			     "write a host name, or \"*.\" and a domain, per mx line");
		return;
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
			line_error(c, line, "serve the policy as plain text",
				   "NUL byte at column %zu (RFC 8461 3.2 allows printable text "
				   "only)",
				   i + 1);
			return false;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			line_error(c, line, "remove the control character",
				   "control byte 0x%02x at column %zu (RFC 8461 3.2 allows "
				   "printable text only)", ch, i + 1);
			return false;
		}
		if (ch < 0x80) {
			i++;
			continue;
		}
		k = utf8_len((const unsigned char *)s + i, n - i);
		if (!k) {
			line_error(c, line, "save the file as UTF-8 (or plain ASCII)",
				   "invalid UTF-8 (byte 0x%02x at column %zu; RFC 8461 3.2 allows "
				   "UTF-8 in extension values only)", ch, i + 1);
			return false;
		}
		i += k;
	}
	return true;
}

/* One line without its terminator. */
static void parse_line(struct pctx *c, const char *s, size_t n, unsigned line)
{
	const char *colon, *v;
	char sl[SHOW_BUF], sk[SHOW_BUF];
	size_t kn, vn, i;
	int f;

	for (i = 0; i < n && is_wsp(s[i]); i++)
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
	if (is_wsp(s[0])) {
		line_error(c, line, "remove the indentation",
			   "leading whitespace before the key (\"%s\"); each line starts with the "
			   "key (RFC 8461 3.2)", sl);
		return;
	}
	colon = memchr(s, ':', n);
	if (!colon) {
		line_error(c, line, "write every line as \"key: value\"",
			   "\"%s\" has no ':' (RFC 8461 3.2: each line is key \":\" value)", sl);
		return;
	}
	kn = (size_t)(colon - s);
	if (kn == 0) {
		line_error(c, line, "write every line as \"key: value\"",
			   "empty key before ':' (\"%s\")", sl);
		return;
	}
	show(sk, sizeof(sk), s, kn);
	if (!ext_name_valid(s, kn)) {
		line_error(c, line, is_wsp(s[kn - 1]) ? "remove the space before ':'" :
			   "correct the key",
			   "key \"%s\" is not a field name (RFC 8461 3.2: a letter or digit, then "
			   "up to 31 letters, digits, '_', '-' or '.'%s)", sk,
			   is_wsp(s[kn - 1]) ? ", no whitespace before ':'" : "");
		return;
	}
	/* sts-policy-field-delim = ":" *WSP; the record allows *WSP after every value */
	v = colon + 1;
	vn = n - kn - 1;
	while (vn && is_wsp(*v)) {
		v++;
		vn--;
	}
	while (vn && is_wsp(v[vn - 1]))
		vn--;
	c->n_fields++;
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

/* Required fields: RFC 8461 3.2 "If any field is not specified, the policy SHALL be
 * treated as invalid"; mx may be absent with mode none. */
static void missing_fields(struct pctx *c)
{
	if (!c->seen[FIELD_VERSION].count)
		findings_add(c->fs, F_POLICY_VERSION, SEV_CRITICAL, c->subject,
			     "no version field (RFC 8461 3.2 requires \"version: STSv1\"); %s; add "
			     "\"version: STSv1\" as the first line", CONSEQ);
	if (!c->seen[FIELD_MODE].count)
		findings_add(c->fs, F_POLICY_MODE, SEV_CRITICAL, c->subject,
			     "no mode field (RFC 8461 3.2 requires one of enforce, testing, none); "
			     "%s; add \"mode: testing\" or \"mode: enforce\"", CONSEQ);
	if (!c->seen[FIELD_MAX_AGE].count)
		findings_add(c->fs, F_POLICY_MAX_AGE, SEV_CRITICAL, c->subject,
			     "no max_age field (RFC 8461 3.2 requires it); %s; add e.g. "
			     "\"max_age: 604800\" (one week)", CONSEQ);
	if (!c->seen[FIELD_MX].count && c->out->mode != POLICY_MODE_NONE)
		findings_add(c->fs, F_POLICY_MX_MISSING, SEV_CRITICAL, c->subject,
			     "no mx field (RFC 8461 3.2 requires at least one unless mode is "
			     "none); %s; add one \"mx:\" line per MX host (or \"*.\" and their "
			     "domain)",
			     CONSEQ);
}

/* Notes about the whole file, after the last line. */
static void file_notes(struct pctx *c)
{
	struct policy *p = c->out;

	if (c->version_line)
		findings_add(c->fs, F_POLICY_NOTE, SEV_INFO, c->subject,
			     "version is on line %u, not the first field; the ABNF (RFC 8461 3.2) "
			     "allows any order and senders accept it, but the RFC examples list it "
			     "first; move \"version: STSv1\" to the top", c->version_line);
	if (p->mode == POLICY_MODE_TESTING)
		findings_add(c->fs, F_POLICY_MODE_TESTING, SEV_INFO, c->subject,
			     "mode testing: senders deliver even when an MX fails the MTA-STS "
			     "checks and only report it by TLS-RPT (RFC 8461 5); switch to "
			     "\"mode: enforce\" once the reports are clean");
	else if (p->mode == POLICY_MODE_NONE)
		findings_add(c->fs, F_POLICY_MODE_NONE, SEV_INFO, c->subject,
			     "mode none: senders treat the domain as having no MTA-STS policy "
			     "(RFC 8461 5); right while retiring MTA-STS (RFC 8461 8.3), otherwise "
			     "publish testing or enforce");
	if (p->n_unknown)
		findings_add(c->fs, F_POLICY_UNKNOWN_KEY, SEV_INFO, c->subject,
			     "%u unknown key%s, ignored as RFC 8461 3.2 says: %s%s; senders skip "
			     "them; check them for typos or remove them", p->n_unknown,
			     p->n_unknown == 1 ? "" : "s", c->unknown.buf ? c->unknown.buf : "",
			     c->n_unknown_cut ? ", ..." : "");
	if (c->n_mx_dropped)
		findings_add(c->fs, F_POLICY_NOTE, SEV_WARNING, c->subject,
			     "the policy lists %zu mx patterns; this tool keeps the first %d and "
			     "ignores %zu, so MX hosts covered only by later patterns show as "
			     "unmatched; merge hosts under \"*.\" patterns",
			     p->n_mx + c->n_mx_dropped, POLICY_MAX_MX, c->n_mx_dropped);
	if (c->n_dot)
		findings_add(c->fs, F_POLICY_NOTE, SEV_WARNING, c->subject,
			     "line %u%s: mx pattern ends with '.'; RFC 5321 Domain (RFC 8461 3.2) "
			     "has no trailing dot, so the strict reading rejects it; this tool "
			     "ignores the dot when matching and keeps the policy valid, but "
			     "senders that compare names literally may match no MX; remove the dot",
			     c->first_dot, c->n_dot > 1 ? " and others" : "");
	if (c->n_blank)
		findings_add(c->fs, F_POLICY_NOTE, SEV_INFO, c->subject,
			     "%u blank line%s (the first at line %u); the ABNF (RFC 8461 3.2) has "
			     "no empty lines, so a strict parser rejects the policy, but common "
			     "senders skip blank lines and this tool treats the policy as valid; "
			     "remove them",
			     c->n_blank, c->n_blank == 1 ? "" : "s", c->first_blank);
	p->eol = c->n_crlf && c->n_lf ? POLICY_EOL_MIXED : c->n_crlf ? POLICY_EOL_CRLF :
		 c->n_lf ? POLICY_EOL_LF : POLICY_EOL_NONE;
	if (p->eol == POLICY_EOL_LF)
		findings_add(c->fs, F_POLICY_LINE_ENDINGS, SEV_INFO, c->subject,
			     "lines end in LF only (%u lines); RFC 8461 3.2 shows CRLF but its "
			     "ABNF accepts LF (sts-policy-term = LF / CRLF) and senders read it; "
			     "CRLF is the reference if you edit the file", c->n_lf);
	else if (p->eol == POLICY_EOL_MIXED)
		findings_add(c->fs, F_POLICY_LINE_ENDINGS, SEV_INFO, c->subject,
			     "mixed line endings: %u CRLF and %u LF-only (first LF-only on line "
			     "%u, first CRLF on line %u); the ABNF (RFC 8461 3.2) accepts both per "
			     "line and senders read it; use CRLF throughout", c->n_crlf, c->n_lf,
			     c->first_lf, c->first_crlf);
}

static bool critical_since(const struct findings *fs, size_t from)
{
	for (size_t i = from; i < fs->n; i++)
		if (fs->v[i].sev == SEV_CRITICAL)
			return true;
	return false;
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
	struct pctx c;
	size_t pos = 0, from = fs->n;
	unsigned line = 1;

	memset(out, 0, sizeof(*out));
	out->max_age = -1;
	memset(&c, 0, sizeof(c));
	c.out = out;
	c.fs = fs;
	c.subject = subject;
	dynbuf_init(&c.unknown, 480);
	if (!body)
		len = 0;
	if (len > POLICY_MAX_BODY) {
		findings_add(fs, F_POLICY_TOO_LARGE, SEV_CRITICAL, subject,
			     "the policy has %zu bytes, more than %d (RFC 8461 3.3 lets senders "
			     "stop reading at 64 KiB); senders treat it as no policy; shorten it",
			     len, POLICY_MAX_BODY);
		goto out;
	}
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		line_error(&c, 1, "save the file as UTF-8 without a byte order mark",
			   "the file starts with a UTF-8 byte order mark (EF BB BF), which the "
			   "ABNF (RFC 8461 3.2) does not allow before the first key");
		pos = 3;
	}
	while (pos < len) {
		size_t e = pos, next;

		while (e < len && body[e] != '\n' && body[e] != '\r')
			e++;
		if (e == len) {
			next = len;	/* [sts-policy-term] after the last field is optional */
		} else if (body[e] == '\n') {
			if (c.n_lf++ == 0)
				c.first_lf = line;
			next = e + 1;
		} else if (e + 1 < len && body[e + 1] == '\n') {
			if (c.n_crlf++ == 0)
				c.first_crlf = line;
			next = e + 2;
		} else {
			/* RFC 8461 3.2 sts-policy-term = LF / CRLF: a lone CR ends nothing */
			line_error(&c, line, "end every line with CRLF (or LF)",
				   "carriage return (\\r) not followed by a line feed; lines end "
				   "with CRLF or LF (RFC 8461 3.2 sts-policy-term)");
			next = e + 1;
		}
		parse_line(&c, body + pos, e - pos, line);
		line++;
		pos = next;
	}
	if (c.n_line_err > LINE_ERR_MAX)
		findings_add(fs, F_POLICY_INVALID, SEV_CRITICAL, subject,
			     "%u more invalid lines, the first of them line %u; %s; fix them as "
			     "above", c.n_line_err - LINE_ERR_MAX, c.extra_err_line, CONSEQ);
	if (c.n_mx_err > MX_ERR_MAX)
		findings_add(fs, F_POLICY_INVALID, SEV_CRITICAL, subject,
			     "%u more invalid mx patterns, the first of them on line %u; %s; fix "
			     "them as above", c.n_mx_err - MX_ERR_MAX, c.extra_mx_line, CONSEQ);
	if (c.n_fields == 0) {
		/* Not a policy at all (an empty file, an error page): one finding says so. */
		char start[SHOW_BUF];

		show(start, sizeof(start), body ? body : "", len);
		findings_add(fs, F_POLICY_INVALID, SEV_CRITICAL, subject,
			     "no \"key: value\" line at all (%zu bytes%s%s%s): this is not an "
			     "MTA-STS policy (RFC 8461 3.2); %s; serve version, mode, mx and "
			     "max_age lines", len, len ? ", starting \"" : "", start,
			     len ? "\"" : "", CONSEQ);
	} else {
		missing_fields(&c);
	}
	file_notes(&c);
out:
	dynbuf_free(&c.unknown);
	out->valid = !critical_since(fs, from);
	return out->valid ? 0 : -1;
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
