/* abnf: the lexical pieces the MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) grammars share. */
#ifndef STSWATCH_ABNF_H
#define STSWATCH_ABNF_H

#include <stdbool.h>
#include <stddef.h>

#define ABNF_EXT_NAME_MAX 32

/* WSP (RFC 5234): space or horizontal tab. */
bool abnf_is_wsp(char c);
/* ALPHA / DIGIT, ASCII only. */
bool abnf_is_alnum(unsigned char c);
/* Equal in the first n bytes, ASCII letters compared without case. */
bool abnf_same_ci(const char *a, const char *b, size_t n);
/*
 * An extension name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."), which is
 * sts-ext-name (RFC 8461 3.1), sts-policy-ext-name (RFC 8461 3.2) and tlsrpt-ext-name
 * (RFC 8460 3) alike.
 */
bool abnf_ext_name_valid(const char *s, size_t n);
/*
 * Untrusted bytes made printable for a message: at most max of the n bytes, control bytes
 * quoted, and "..." when the text was cut or holds a NUL.
 */
void abnf_show(char *dst, size_t dstlen, const char *s, size_t n, size_t max);

#endif
