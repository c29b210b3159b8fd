/* dnsname: is a string a DNS host name, a mail domain worth watching? Pure. */
#ifndef STSWATCH_DNSNAME_H
#define STSWATCH_DNSNAME_H

#include <stdbool.h>

/* Is s a syntactically plausible DNS name (LDH labels, 1..253 bytes, no empty label)? */
bool dns_name_valid(const char *s);
/* A mail domain to watch: a valid DNS name of two labels at least ("org." is one). */
bool mail_domain_valid(const char *s);

#endif
