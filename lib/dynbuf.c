/* dynbuf: a growable byte buffer with a hard maximum, for everything read from a peer. */
#include "dynbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

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
