/* dnsname: is a string a DNS host name, a mail domain worth watching? Pure. */
#ifndef STSWATCH_DNSNAME_H
#define STSWATCH_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Is s a syntactically plausible DNS name (LDH labels, 1..253 bytes, no empty label)? */
bool dns_name_valid(const char *s);
/*
 * A mail domain to watch: a valid DNS name of two labels at least ("org." is one), not an
 * IP address, whose last label is not all digits (no top-level domain is).
 */
bool mail_domain_valid(const char *s);
/*
 * The A-label form (IDNA 2008, RFC 5890, by libidn2) of a name given in UTF-8 with
 * U-labels: "x.\xc3\xb1aca.com" -> "x.xn--aca-6ma.com"; an ASCII name is copied as it is.
 * 0, or -1 when it is no valid internationalized name or does not fit in len bytes.
 */
int dns_name_to_alabel(const char *s, char *out, size_t len);
/*
 * Why s is no mail domain ("an IPv4 address, not a domain name", "label 2 is longer than
 * 63 bytes", ...), in words that never quote s; NULL when it is one.
 */
const char *mail_domain_why(const char *s);

#endif
