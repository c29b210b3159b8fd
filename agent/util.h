/* util: allocation that aborts on exhaustion, bounded string buffers, time helpers. */
#ifndef STSWATCH_UTIL_H
#define STSWATCH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Allocate or abort with a message: running out of memory is the one fatal run-time error. */
void *xmalloc(size_t n);
/* Zeroed allocation of nmemb * size bytes, aborting on overflow or exhaustion. */
void *xcalloc(size_t nmemb, size_t size);
/* Resize or abort. */
void *xrealloc(void *p, size_t n);
/* Duplicate a string or abort; NULL stays NULL. */
char *xstrdup(const char *s);
/* Duplicate at most n bytes and terminate. */
char *xstrndup(const char *s, size_t n);
/* printf into a fresh allocation or abort. */
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

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

/* snprintf that always terminates and reports truncation as -1. */
int bsnprintf(char *dst, size_t dstlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Copy with truncation; always terminates. Returns strlen(src). */
size_t strlcpy_s(char *dst, const char *src, size_t dstlen);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines and durations only. */
uint64_t mono_ms(void);
/* Format a UTC time as RFC 3339 ("2026-11-28T19:34:17Z") into buf (at least 21 bytes). */
const char *time_rfc3339(time_t t, char *buf, size_t len);
/* Parse "YYYY-MM-DD" or RFC 3339 UTC ("...T..:..:..Z"); 0 on success. */
int time_parse(const char *s, time_t *out);
/* Whole days from now to t, rounded down (negative when t is past). */
long days_until(time_t t, time_t now);

/* ASCII case-insensitive comparison that does not depend on the locale. */
int ascii_strcasecmp(const char *a, const char *b);
/* Lower-case an ASCII string in place. */
void ascii_lower(char *s);
/* Replace control and non-ASCII bytes by '?' so network text is safe to print. */
void sanitize_printable(char *s);
/* Copy at most n bytes of untrusted data into dst as printable text, quoting control bytes. */
void printable_copy(char *dst, size_t dstlen, const char *src, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Parse a decimal number in [lo, hi]; 0 on success. */
int parse_long(const char *s, long lo, long hi, long *out);
/* Is s a syntactically plausible DNS name (LDH labels, 1..253 bytes, no empty label)? */
bool dns_name_valid(const char *s);
/* A mail domain to watch: a valid DNS name of two labels at least ("org." is one). */
bool mail_domain_valid(const char *s);

#endif
