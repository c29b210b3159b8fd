/* str: bounded string formatting, ASCII case, printable copies of untrusted bytes. */
#include "str.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void controls_escape(char *dst, size_t dstlen, const char *src, const char *also)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (!dstlen)
		return;
	while (*s) {
		size_t n = *s >= 0x80 ? utf8_seq_len(s, 4) : 1;
		char tmp[8];

		if (*s < 0x20 || *s == 0x7f || n == 0 || (*s < 0x80 && also && strchr(also, *s))) {
			bsnprintf(tmp, sizeof(tmp), "\\x%02x", *s);
			n = 1;
		} else {
			memcpy(tmp, s, n);
			tmp[n] = '\0';
		}
		if (o + strlen(tmp) + 1 > dstlen)
			break;
		memcpy(dst + o, tmp, strlen(tmp));
		o += strlen(tmp);
		s += n;
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

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t k;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
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
			lo = 0x90;	/* no overlong forms */
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
