/* util: allocation that aborts on exhaustion, bounded string buffers, time helpers. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "stswatch: out of memory (asked for %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void dynbuf_init(struct dynbuf *sb, size_t max)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->max = max;
	sb->toobig = false;
}

static int dynbuf_reserve(struct dynbuf *sb, size_t extra)
{
	size_t need, ncap;

	if (extra > SIZE_MAX - sb->len - 1)
		return -1;
	need = sb->len + extra + 1;
	if (sb->max && need > sb->max + 1) {
		sb->toobig = true;
		return -1;
	}
	if (need <= sb->cap)
		return 0;
	ncap = sb->cap ? sb->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (sb->max && ncap > sb->max + 1)
		ncap = sb->max + 1;
	sb->buf = xrealloc(sb->buf, ncap);
	sb->cap = ncap;
	return 0;
}

int dynbuf_append(struct dynbuf *sb, const void *data, size_t n)
{
	if (dynbuf_reserve(sb, n) < 0)
		return -1;
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int dynbuf_printf(struct dynbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || dynbuf_reserve(sb, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

void dynbuf_reset(struct dynbuf *sb)
{
	sb->len = 0;
	sb->toobig = false;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void dynbuf_free(struct dynbuf *sb)
{
	free(sb->buf);
	dynbuf_init(sb, sb->max);
}

char *dynbuf_steal(struct dynbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");

	dynbuf_init(sb, sb->max);
	return p;
}

int bsnprintf(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!dstlen)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
	if (n < 0) {
		dst[0] = '\0';
		return -1;
	}
	return (size_t)n >= dstlen ? -1 : n;
}

size_t strlcpy_s(char *dst, const char *src, size_t dstlen)
{
	size_t n = strlen(src);

	if (dstlen) {
		size_t c = n < dstlen - 1 ? n : dstlen - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *time_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		bsnprintf(buf, len, "?");
	return buf;
}

int time_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end)
			return -1;
	}
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

long days_until(time_t t, time_t now)
{
	double d = difftime(t, now) / 86400.0;

	return d < 0 ? -(long)((-d) + 0.999999999) : (long)d;
}

int ascii_strcasecmp(const char *a, const char *b)
{
	unsigned char ca, cb;

	do {
		ca = (unsigned char)*a++;
		cb = (unsigned char)*b++;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca + 32);
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb + 32);
	} while (ca && ca == cb);
	return (int)ca - (int)cb;
}

void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

void sanitize_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

void printable_copy(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t o = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i < n && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];
		char tmp[8];
		size_t tl;

		if (c == '\r')
			bsnprintf(tmp, sizeof(tmp), "\\r");
		else if (c == '\n')
			bsnprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\t')
			bsnprintf(tmp, sizeof(tmp), "\\t");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			bsnprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else
			bsnprintf(tmp, sizeof(tmp), "%c", c);
		tl = strlen(tmp);
		if (o + tl + 1 > dstlen)
			break;
		memcpy(dst + o, tmp, tl);
		o += tl;
	}
	dst[o] = '\0';
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

bool dns_name_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	/* the last label is not empty either: "example.org.." is not a name */
	return label > 0 && s[len - 1] != '-';
}

bool mail_domain_valid(const char *s)
{
	const char *dot = strchr(s, '.');

	return dns_name_valid(s) && dot && dot[1];
}
