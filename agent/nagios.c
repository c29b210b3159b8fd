/* nagios: Monitoring Plugins output: threshold ranges, perfdata, sanitized text, 8 KiB cut. */
#include "nagios.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_MAX_SIG 15	/* significant digits a threshold may have: exact in a double */
#define NUM_BUFLEN 400	/* "%.0f" of the largest double is 309 digits */
#define NUM_MAX_PREC 40	/* decimals written at most: smaller values print as 0 */

static const char range_forms[] = "N, N:, ~:N, N:M, @N:M";

/* Exact powers of ten for the fraction of a parsed number (all exact in a double). */
static const double pow10_tab[NUM_MAX_SIG + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

/*
 * [+-](digits[.[digits]] | .digits) of exactly n bytes, without strtod (which follows
 * LC_NUMERIC). The mantissa and the power of ten are both exact, so the one division
 * rounds correctly.
 */
static int parse_num(const char *s, size_t n, double *out)
{
	size_t i = 0;
	uint64_t mant = 0;
	int sig = 0, frac = 0, digits = 0;
	bool neg = false, dot = false;
	double v;

	if (i < n && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	for (; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (dot)
				return -1;
			dot = true;
			continue;
		}
		if (c < '0' || c > '9')
			return -1;
		digits++;
		if (dot && ++frac > NUM_MAX_SIG)
			return -1;
		if (mant == 0 && c == '0')
			continue;
		if (++sig > NUM_MAX_SIG)
			return -1;
		mant = mant * 10 + (uint64_t)(c - '0');
	}
	if (!digits)
		return -1;
	v = (double)mant / pow10_tab[frac];
	*out = neg && mant ? -v : v;
	return 0;
}

/* Replace the locale's decimal point (whatever bytes it is) by '.'. */
static void fix_decimal_point(char *s)
{
	char *w = s;
	bool done = false;

	for (char *r = s; *r;) {
		if ((*r >= '0' && *r <= '9') || (r == s && *r == '-')) {
			*w++ = *r++;
			continue;
		}
		if (!done)
			*w++ = '.';
		done = true;
		while (*r && !(*r >= '0' && *r <= '9'))
			r++;
	}
	*w = '\0';
}

/*
 * A number as plain decimal text with '.', no exponent, no locale: integers without a
 * fraction, others with 15 significant digits less trailing zeros (what a double holds
 * exactly, so a parsed threshold is written back as it was given). 'U' for NaN and
 * infinities.
 */
static void fmt_num(double v, char *buf, size_t len)
{
	char tmp[NUM_BUFLEN];
	const char *e;
	int exp10, prec;

	if (!isfinite(v)) {
		bsnprintf(buf, len, "U");
		return;
	}
	v += 0.0;	/* -0 + 0 is +0: never "-0" */
	if (fabs(v) < 1e15 && v == floor(v)) {
		snprintf(tmp, sizeof(tmp), "%.0f", v);
		fix_decimal_point(tmp);
		bsnprintf(buf, len, "%s", tmp);
		return;
	}
	/* The decimal exponent after rounding to 15 digits, from printf itself. */
	snprintf(tmp, sizeof(tmp), "%.*e", NUM_MAX_SIG - 1, v);
	e = strrchr(tmp, 'e');
	exp10 = e ? atoi(e + 1) : 0;
	prec = NUM_MAX_SIG - 1 - exp10;
	if (prec < 0)
		prec = 0;
	if (prec > NUM_MAX_PREC)
		prec = NUM_MAX_PREC;
	snprintf(tmp, sizeof(tmp), "%.*f", prec, v);
	fix_decimal_point(tmp);
	if (strchr(tmp, '.')) {
		size_t n = strlen(tmp);

		while (n > 0 && tmp[n - 1] == '0')
			tmp[--n] = '\0';
		if (n > 0 && tmp[n - 1] == '.')
			tmp[--n] = '\0';
	}
	if (strcmp(tmp, "-0") == 0)
		bsnprintf(tmp, sizeof(tmp), "0");
	bsnprintf(buf, len, "%s", tmp);
}

static int range_fail(const char *s, char *err, size_t errlen, const char *why)
{
	char shown[64];

	printable_copy(shown, sizeof(shown), s, 48);
	if (why)
		bsnprintf(err, errlen, "\"%s\": %s", shown, why);
	else
		bsnprintf(err, errlen, "\"%s\" is not a number or a range (%s)", shown,
			  range_forms);
	return -1;
}

int nagios_range_parse(const char *s, bool bare_is_min, struct nagios_range *r, char *err,
		       size_t errlen)
{
	struct nagios_range nr = { 0 };
	const char *p, *colon;

	if (!s || !*s) {
		bsnprintf(err, errlen, "empty threshold: give a number or a range (%s)",
			  range_forms);
		return -1;
	}
	p = s;
	if (*p == '@') {
		nr.inside = true;
		p++;
	}
	colon = strchr(p, ':');
	if (!colon) {
		double v;

		if (parse_num(p, strlen(p), &v) < 0)
			return range_fail(s, err, errlen, NULL);
		if (bare_is_min && !nr.inside) {
			nr.start = v;
			nr.end_inf = true;
		} else {
			nr.start = 0;
			nr.end = v;
		}
	} else {
		const char *endp = colon + 1;

		if (colon - p == 1 && *p == '~')
			nr.start_inf = true;
		else if (parse_num(p, (size_t)(colon - p), &nr.start) < 0)
			return range_fail(s, err, errlen, NULL);
		if (!*endp)
			nr.end_inf = true;
		else if (parse_num(endp, strlen(endp), &nr.end) < 0)
			return range_fail(s, err, errlen, NULL);
	}
	if (!nr.start_inf && !nr.end_inf && nr.start > nr.end) {
		char a[NUM_BUFLEN], b[NUM_BUFLEN], why[2 * NUM_BUFLEN + 64];

		fmt_num(nr.start, a, sizeof(a));
		fmt_num(nr.end, b, sizeof(b));
		bsnprintf(why, sizeof(why), "the start %s is greater than the end %s", a, b);
		return range_fail(s, err, errlen, why);
	}
	*r = nr;
	return 0;
}

bool nagios_range_alert(const struct nagios_range *r, double v)
{
	bool in;

	if (isnan(v))
		return true;
	in = (r->start_inf || v >= r->start) && (r->end_inf || v <= r->end);
	return r->inside ? in : !in;
}

void nagios_range_str(const struct nagios_range *r, char *buf, size_t len)
{
	char a[NUM_BUFLEN] = "~", b[NUM_BUFLEN] = "";

	if (!r->start_inf)
		fmt_num(r->start, a, sizeof(a));
	if (!r->end_inf)
		fmt_num(r->end, b, sizeof(b));
	bsnprintf(buf, len, "%s%s:%s", r->inside ? "@" : "", a, b);
}

static bool uom_valid(const char *u)
{
	static const char *const uoms[] = { "", "s", "ms", "us", "%", "B", "KB", "MB", "TB",
					    "c" };

	for (size_t i = 0; i < ARRAY_LEN(uoms); i++)
		if (strcmp(u, uoms[i]) == 0)
			return true;
	return false;
}

int nagios_perf_append(struct dynbuf *sb, const struct nagios_perf *p)
{
	char fields[4][NUM_BUFLEN];
	char val[NUM_BUFLEN];
	const char *uom = p->uom ? p->uom : "";
	size_t old = sb->len;
	bool quote;
	int last = -1, rc = 0;

	if (!p->label || !*p->label || !uom_valid(uom))
		return -1;
	for (int i = 0; i < 4; i++)
		fields[i][0] = '\0';
	if (p->warn)
		nagios_range_str(p->warn, fields[0], sizeof(fields[0]));
	if (p->crit)
		nagios_range_str(p->crit, fields[1], sizeof(fields[1]));
	if (p->has_min && isfinite(p->min))
		fmt_num(p->min, fields[2], sizeof(fields[2]));
	if (p->has_max && isfinite(p->max))
		fmt_num(p->max, fields[3], sizeof(fields[3]));
	for (int i = 0; i < 4; i++)
		if (fields[i][0])
			last = i;
	fmt_num(p->value, val, sizeof(val));
	if (strcmp(val, "U") == 0)
		uom = "";

	quote = strpbrk(p->label, " ='") != NULL;
	if (sb->len > 0)
		rc |= dynbuf_append(sb, " ", 1);
	if (quote)
		rc |= dynbuf_append(sb, "'", 1);
	for (const char *c = p->label; *c && rc == 0; c++) {
		unsigned char u = (unsigned char)*c;

		if (u < 0x20 || u == 0x7f || u == '|')
			rc |= dynbuf_append(sb, "_", 1);
		else if (u == '\'')
			rc |= dynbuf_append(sb, "''", 2);
		else
			rc |= dynbuf_append(sb, c, 1);
	}
	if (quote)
		rc |= dynbuf_append(sb, "'", 1);
	rc |= dynbuf_printf(sb, "=%s%s", val, uom);
	for (int i = 0; i <= last; i++)
		rc |= dynbuf_printf(sb, ";%s", fields[i]);
	if (rc != 0) {
		sb->len = old;
		if (sb->buf)
			sb->buf[old] = '\0';
		return -1;
	}
	return 0;
}

void nagios_sanitize(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;

	while (*r) {
		unsigned char c = *r;
		size_t n;

		if (c >= 0x80) {
			n = utf8_seq_len(r, 4);	/* the NUL ends a sequence */
			if (n == 0) {
				*w++ = '?';
				r++;
			} else {
				memmove(w, r, n);
				w += n;
				r += n;
			}
			continue;
		}
		r++;
		switch (c) {
		case '|':
			*w++ = '/';
			break;
		case '<':
			*w++ = '(';
			break;
		case '>':
			*w++ = ')';
			break;
		case '~':
			*w++ = '-';
			break;
		case '&':
			*w++ = '+';
			break;
		case '\'':
		case '"':
		case '`':
		case '$':
			break;
		case '\n':
			*w++ = '\n';
			break;
		default:
			*w++ = (c < 0x20 || c == 0x7f) ? ' ' : c;
			break;
		}
	}
	*w = '\0';
}

/* One perfdata item: a span of the perfdata text. */
struct span {
	size_t off, len;
};

/* Split perfdata into items at spaces outside a quoted label ('a b'=1, '' is a quote). */
static size_t perf_split(const char *s, struct span **out)
{
	size_t n = 0, cap = 0, i = 0;
	struct span *v = NULL;

	for (;;) {
		size_t start;

		while (s[i] == ' ')
			i++;
		if (!s[i])
			break;
		start = i;
		if (s[i] == '\'') {
			for (i++; s[i]; i++) {
				if (s[i] == '\'' && s[i + 1] == '\'') {
					i++;
					continue;
				}
				if (s[i] == '\'') {
					i++;
					break;
				}
			}
		}
		while (s[i] && s[i] != ' ')
			i++;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n].off = start;
		v[n].len = i - start;
		n++;
	}
	*out = v;
	return n;
}

static size_t marker_len(size_t cut)
{
	char m[64];

	bsnprintf(m, sizeof(m), "... (%zu more line%s cut)", cut, cut == 1 ? "" : "s");
	return strlen(m);
}

static void replace_chars(char *s, const char *from, char to)
{
	for (; *s; s++)
		if (strchr(from, *s))
			*s = to;
}

char *nagios_render(const char *first_line, const char *perfdata, const char *long_text,
		    size_t max_bytes)
{
	size_t budget = max_bytes ? max_bytes - 1 : 0;
	char *first = xstrdup(first_line ? first_line : "");
	char *perf = xstrdup(perfdata ? perfdata : "");
	char *lng = xstrdup(long_text ? long_text : "");
	struct span *items = NULL, *lines = NULL;
	size_t n_items, m, head, n_lines = 0, lines_cap = 0, k, flen;
	size_t *prefix = NULL;
	struct dynbuf out;

	replace_chars(first, "\r\n", ' ');
	replace_chars(first, "|", '/');
	replace_chars(perf, "\r\n", ' ');
	replace_chars(lng, "|", '/');

	/* First line and perfdata: drop perfdata items from the end, then cut the line. */
	n_items = perf_split(perf, &items);
	flen = strlen(first);
	head = flen;
	for (size_t i = 0; i < n_items; i++)
		head += (i ? 1 : 3) + items[i].len;	/* " | " before the first, ' ' between */
	for (m = n_items; m > 0 && head > budget; m--)
		head -= (m > 1 ? 1 : 3) + items[m - 1].len;
	if (head > budget) {
		size_t cut = budget >= 3 ? budget - 3 : budget;

		while (cut > 0 && ((unsigned char)first[cut] & 0xc0) == 0x80)
			cut--;
		if (budget >= 3)
			memcpy(first + cut, "...", 3);	/* fits: cut + 3 <= budget < flen */
		first[budget >= 3 ? cut + 3 : cut] = '\0';
		head = strlen(first);
	}

	/* Long text: whole lines while they fit with the marker that counts the rest. */
	if (*lng) {
		size_t i = 0;

		for (;;) {
			size_t start = i;

			while (lng[i] && lng[i] != '\n')
				i++;
			if (n_lines == lines_cap) {
				lines_cap = lines_cap ? 2 * lines_cap : 32;
				lines = xrealloc(lines, lines_cap * sizeof(*lines));
			}
			lines[n_lines].off = start;
			lines[n_lines].len = i - start;
			n_lines++;
			if (!lng[i] || !lng[i + 1])
				break;	/* a final '\n' ends the text, not an empty line */
			i++;
		}
	}
	prefix = xcalloc(n_lines + 1, sizeof(*prefix));
	for (size_t i = 0; i < n_lines; i++)
		prefix[i + 1] = prefix[i] + 1 + lines[i].len;
	/* Perfdata or the first line cut: no room for any line, at most the marker. */
	for (k = (m < n_items || head < flen) ? 0 : n_lines;; k--) {
		size_t total = head + prefix[k];

		if (k < n_lines)
			total += 1 + marker_len(n_lines - k);
		if (total <= budget)
			break;
		if (k == 0)
			break;
	}

	dynbuf_init(&out, 0);
	dynbuf_append(&out, first, strlen(first));
	if (m > 0) {
		dynbuf_append(&out, " | ", 3);
		for (size_t i = 0; i < m; i++) {
			if (i)
				dynbuf_append(&out, " ", 1);
			dynbuf_append(&out, perf + items[i].off, items[i].len);
		}
	}
	for (size_t i = 0; i < k; i++) {
		dynbuf_append(&out, "\n", 1);
		dynbuf_append(&out, lng + lines[i].off, lines[i].len);
	}
	if (k < n_lines && head + prefix[k] + 1 + marker_len(n_lines - k) <= budget)
		dynbuf_printf(&out, "\n... (%zu more line%s cut)", n_lines - k,
			      n_lines - k == 1 ? "" : "s");

	free(prefix);
	free(lines);
	free(items);
	free(lng);
	free(perf);
	free(first);
	return dynbuf_steal(&out);
}

/* Cut sb to at most n bytes, not inside a UTF-8 sequence. */
static void cut_utf8(struct dynbuf *sb, size_t n)
{
	if (sb->len <= n)
		return;
	while (n && ((unsigned char)sb->buf[n] & 0xc0) == 0x80)
		n--;
	sb->buf[n] = '\0';
	sb->len = n;
}

char *nagios_first_line(const char *domain, enum status st, const struct findings *fs,
			const char *summary)
{
	const struct finding *top = NULL;
	size_t problems = 0;
	struct dynbuf sb;
	char more[32] = "";

	for (size_t i = 0; i < fs->n; i++) {
		if (fs->v[i].sev == SEV_INFO)
			continue;
		if (!top)
			top = &fs->v[i];
		problems++;
	}
	dynbuf_init(&sb, 0);
	dynbuf_printf(&sb, "MTA-STS %s - %s: ", status_str(st), domain);
	if (top) {
		char *headline = finding_join(top->what, top->evidence, NULL, NULL);

		if (problems > 1)
			bsnprintf(more, sizeof(more), " (+%zu more)", problems - 1);
		dynbuf_printf(&sb, "%s %s: %s", finding_code_str(top->code), top->subject, headline);
		free(headline);
	} else {
		dynbuf_printf(&sb, "%s", summary ? summary : "");
	}
	/* sanitized first, so what is removed leaves room; then cut, keeping the count */
	nagios_sanitize(sb.buf);
	sb.len = strlen(sb.buf);
	if (sb.len + strlen(more) > NAGIOS_FIRST_LINE_MAX) {
		cut_utf8(&sb, NAGIOS_FIRST_LINE_MAX - strlen(more) - 3);
		dynbuf_printf(&sb, "...");
	}
	dynbuf_printf(&sb, "%s", more);
	return dynbuf_steal(&sb);
}

void nagios_mx_summary(struct dynbuf *sb, unsigned valid, size_t n_total, size_t n_probed)
{
	if (n_total < n_probed)
		n_total = n_probed;
	dynbuf_printf(sb, "%u of %zu MX hosts valid", valid, n_total);
	if (n_total > n_probed)
		dynbuf_printf(sb, " (%zu probed)", n_probed);
}

int nagios_exit_code(enum status st)
{
	switch (st) {
	case STATUS_OK:
		return 0;
	case STATUS_WARNING:
		return 1;
	case STATUS_CRITICAL:
		return 2;
	case STATUS_UNKNOWN:
		break;
	}
	return 3;
}
