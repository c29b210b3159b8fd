/* dnsname: is a string a DNS host name, a mail domain worth watching? Pure. */
#ifndef STSWATCH_DNSNAME_H
#define STSWATCH_DNSNAME_H

#include <stdbool.h>

/* Is s a syntactically plausible DNS name (LDH labels, 1..253 bytes, no empty label)? */
bool dns_name_valid(const char *s);
/*
 * A mail domain to watch: a valid DNS name of two labels at least ("org." is one), not an
 * IP address, whose last label is not all digits (no top-level domain is).
 */
bool mail_domain_valid(const char *s);
/*
 * Why s is no mail domain ("an IPv4 address, not a domain name", "label 2 is longer than
 * 63 bytes", ...), in words that never quote s; NULL when it is one.
 */
const char *mail_domain_why(const char *s);

#endif
