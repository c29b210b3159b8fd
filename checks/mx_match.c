/* mx_match: MX host names against policy mx patterns (RFC 8461 section 4.1). */
#include "mx_match.h"
#include "lib/defs.h"
#include "lib/str.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


#define NAME_MAX_LEN 253	/* RFC 1035 2.3.4, as text without the trailing dot */
#define LABEL_MAX_LEN 63
#define SHOW_LEN 80		/* bytes of a name quoted in an explanation */

static void set_why(char *why, size_t whylen, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	if (vsnprintf(why, whylen, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Length of a name without one trailing dot (RFC 8461 4.1 compares names, not FQDN text). */
static size_t bare_len(const char *s)
{
	size_t n = strlen(s);

	return n && s[n - 1] == '.' ? n - 1 : n;
}

/* A name made safe to quote: printable, bounded. */
static void show(char *dst, size_t dstlen, const char *s, size_t n)
{
	printable_copy(dst, dstlen, s, n < SHOW_LEN ? n : SHOW_LEN);
	if (n > SHOW_LEN && strlen(dst) + 4 < dstlen)
		strcat(dst, "...");
}

static const char *count_word(size_t n, char *buf, size_t len)
{
	static const char *const words[] = { "none", "one", "two", "three", "four", "five",
					     "six", "seven", "eight", "nine", "ten" };

	if (n < ARRAY_LEN(words))
		return words[n];
	bsnprintf(buf, len, "%zu", n);
	return buf;
}

/*
 * RFC 5321 4.1.2 Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]:
 * letters, digits and inner hyphens, no empty label; RFC 1035 2.3.4 limits labels to 63
 * and (RFC 2181 11) names to 255 octets on the wire, 253 as text. total is the length the
 * whole pattern counts against that limit.
 */
static bool domain_valid(const char *s, size_t n, size_t total, char *why, size_t whylen)
{
	size_t start = 0;
	char lab[SHOW_LEN * 4 + 4];

	if (total > NAME_MAX_LEN) {
		set_why(why, whylen, "the name has %zu characters; a DNS name holds at most %d",
			total, NAME_MAX_LEN);
		return false;
	}
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)s[i] : '.';
		size_t ll = i - start;

		if (c == '.') {
			if (ll == 0) {
				set_why(why, whylen, "empty label (a leading dot or two dots in a "
					"row)");
				return false;
			}
			show(lab, sizeof(lab), s + start, ll);
			if (ll > LABEL_MAX_LEN) {
				set_why(why, whylen, "label \"%s\" has %zu characters; a label "
					"holds at most %d", lab, ll, LABEL_MAX_LEN);
				return false;
			}
			if (s[start] == '-' || s[i - 1] == '-') {
				set_why(why, whylen, "label \"%s\" starts or ends with '-' (RFC "
					"5321 sub-domain = Let-dig [Ldh-str])", lab);
				return false;
			}
			start = i + 1;
			continue;
		}
		if (c == '*') {
			set_why(why, whylen, "'*' is allowed only as the whole leftmost label "
				"('*.' prefix)");
			return false;
		}
		if (c >= 0x80) {
			set_why(why, whylen, "non-ASCII byte 0x%02x; write internationalized names "
				"as A-labels (xn--...)", c);
			return false;
		}
		if (!is_alnum(c) && c != '-') {
			char ch[8];

			printable_copy(ch, sizeof(ch), (const char *)&c, 1);
			set_why(why, whylen, "character '%s' is not a letter, digit or '-' "
				"(RFC 5321 Domain)", c ? ch : "\\x00");
			return false;
		}
	}
	return true;
}

bool mx_pattern_valid(const char *pattern, char *why, size_t whylen)
{
	const char *dom = pattern;
	size_t n, dn;

	set_why(why, whylen, "%s", "");
	if (!pattern || !*pattern) {
		set_why(why, whylen, "the pattern is empty");
		return false;
	}
	n = strlen(pattern);
	if (pattern[0] == '*') {
		if (n == 1) {
			set_why(why, whylen, "a lone '*' is not a pattern; a wildcard is '*.' "
				"followed by a domain (\"*.example.com\")");
			return false;
		}
		if (pattern[1] != '.') {
			set_why(why, whylen, "a wildcard must be the whole leftmost label "
				"('*.' prefix); partial wildcards such as \"*mail.example.com\" "
				"are not allowed");
			return false;
		}
		dom = pattern + 2;
	}
	dn = bare_len(dom);
	if (dn == 0) {
		set_why(why, whylen, dom != pattern ? "'*.' must be followed by a domain" :
			"the pattern is only a dot");
		return false;
	}
	return domain_valid(dom, dn, (size_t)(dom - pattern) + dn, why, whylen);
}

bool mx_pattern_match(const char *pattern, const char *host, char *why, size_t whylen)
{
	char rule[256], sp[SHOW_LEN * 4 + 4], sh[SHOW_LEN * 4 + 4], sd[SHOW_LEN * 4 + 4];
	char num[24];
	const char *dom;
	size_t hn, dn, pn;

	set_why(why, whylen, "%s", "");
	if (!pattern || !host) {
		set_why(why, whylen, "no pattern or no host to compare");
		return false;
	}
	pn = strlen(pattern);
	show(sp, sizeof(sp), pattern, pn);
	if (!mx_pattern_valid(pattern, rule, sizeof(rule))) {
		set_why(why, whylen, "pattern %s is invalid: %s", sp, rule);
		return false;
	}
	hn = bare_len(host);
	show(sh, sizeof(sh), host, hn);
	if (hn == 0) {
		set_why(why, whylen, "the mx host name is empty");
		return false;
	}
	dom = pattern[0] == '*' ? pattern + 2 : pattern;
	dn = bare_len(dom);
	show(sd, sizeof(sd), dom, dn);

	if (dom == pattern) {
		/* RFC 8461 4.1: a plain pattern matches that one name, case-insensitively */
		if (hn == dn && same_ci(host, dom, dn))
			return true;
		if (hn > dn + 1 && host[hn - dn - 1] == '.' && same_ci(host + hn - dn, dom, dn))
			set_why(why, whylen, "pattern %s names only that host, mx %s is below it; "
				"only a '*.' pattern covers a label more", sd, sh);
		else
			set_why(why, whylen, "different name: pattern %s, mx %s", sd, sh);
		return false;
	}

	/* RFC 8461 4.1: "*." stands for exactly one leftmost label */
	if (hn == dn && same_ci(host, dom, dn)) {
		set_why(why, whylen, "wildcard needs one label before %s; mx %s has none", sd, sh);
		return false;
	}
	if (hn > dn && host[hn - dn - 1] == '.' && same_ci(host + hn - dn, dom, dn)) {
		size_t plen = hn - dn - 1, labels = 1;
		bool empty = plen == 0 || host[0] == '.' || host[plen - 1] == '.';

		for (size_t i = 0; i < plen; i++) {
			if (host[i] != '.')
				continue;
			labels++;
			if (i + 1 < plen && host[i + 1] == '.')
				empty = true;
		}
		if (empty) {
			set_why(why, whylen, "mx %s has an empty label before %s", sh, sd);
			return false;
		}
		if (labels == 1)
			return true;
		set_why(why, whylen, "wildcard covers exactly one label; mx %s has %s", sh,
			count_word(labels, num, sizeof(num)));
		return false;
	}
	set_why(why, whylen, "different name: pattern %s covers only names directly under %s; "
		"mx %s is not under it", sp, sd, sh);
	return false;
}

int mx_match_any(char *const *patterns, size_t n, const char *host)
{
	if (!patterns || !host)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (patterns[i] && mx_pattern_match(patterns[i], host, NULL, 0))
			return i > (size_t)INT_MAX ? -1 : (int)i;
	return -1;
}
