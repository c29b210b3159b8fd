/* dynbuf: a growable byte buffer with a hard maximum, for everything read from a peer. */
#ifndef STSWATCH_DYNBUF_H
#define STSWATCH_DYNBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "defs.h"

/* A growable byte buffer with a hard maximum (like curl's dynbuf); always NUL-terminated. */
struct dynbuf {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;	/* 0: no limit */
	bool toobig;	/* an append was refused because of max */
};

/* Start an empty buffer that refuses to grow beyond max bytes (0 for no limit). */
void dynbuf_init(struct dynbuf *sb, size_t max);
/* Append n bytes; returns -1 and sets toobig if that would pass the maximum. */
int dynbuf_append(struct dynbuf *sb, const void *data, size_t n);
/* Append formatted text; -1 when the maximum would be passed. */
int dynbuf_printf(struct dynbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Empty the buffer, keeping its memory. */
void dynbuf_reset(struct dynbuf *sb);
/* Give up the memory. */
void dynbuf_free(struct dynbuf *sb);
/* Take the string out of the buffer (caller frees); the buffer is left empty. */
char *dynbuf_steal(struct dynbuf *sb);

#endif
