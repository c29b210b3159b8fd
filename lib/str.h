/* str: bounded string formatting, ASCII case, printable copies of untrusted bytes. */
#ifndef STSWATCH_STR_H
#define STSWATCH_STR_H

#include <stddef.h>

#include "defs.h"

/* snprintf that always terminates and reports truncation as -1. */
int bsnprintf(char *dst, size_t dstlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Copy with truncation; always terminates. Returns strlen(src). */
size_t strlcpy_s(char *dst, const char *src, size_t dstlen);
/* ASCII case-insensitive comparison that does not depend on the locale. */
int ascii_strcasecmp(const char *a, const char *b);
/* Lower-case an ASCII string in place. */
void ascii_lower(char *s);
/* Replace control and non-ASCII bytes by '?' so network text is safe to print. */
void sanitize_printable(char *s);
/* Copy at most n bytes of untrusted data into dst as printable text, quoting control bytes. */
void printable_copy(char *dst, size_t dstlen, const char *src, size_t n);
/*
 * Copy a message that may hold untrusted text into dst for one line of output: control
 * bytes, DEL, bytes that are not UTF-8 and every byte of also (such as "|") become \xNN;
 * everything else, backslashes included, stays as it is (so text that printable_copy
 * quoted before is not quoted twice). Cut at dstlen - 1 bytes, never inside an escape.
 */
void controls_escape(char *dst, size_t dstlen, const char *src, const char *also);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Parse a decimal number in [lo, hi]; 0 on success. */
int parse_long(const char *s, long lo, long hi, long *out);
/*
 * Length of the UTF-8 character (RFC 3629) at s, of at most n bytes: 1 for ASCII, 2 to 4
 * for a well-formed sequence (no overlong form, no surrogate, nothing above U+10FFFF), 0
 * when the bytes are not one. A NUL ends a sequence, so a terminated string is safe.
 */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
