/* mx_match: MX host names against policy mx patterns (RFC 8461 section 4.1). */
#ifndef STSWATCH_MX_MATCH_H
#define STSWATCH_MX_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Is the pattern well formed (["*."] Domain, RFC 8461 3.2)? On false, why holds the rule
 * that failed, e.g. "a wildcard must be the whole leftmost label ('*.' prefix)".
 */
bool mx_pattern_valid(const char *pattern, char *why, size_t whylen);

/*
 * Does host match pattern? Case-insensitive, a trailing dot on either ignored, "*." stands
 * for exactly one leftmost label. When why is not NULL it receives the reason in words on
 * a mismatch ("wildcard covers exactly one label; mx a.b.mail.example has two").
 */
bool mx_pattern_match(const char *pattern, const char *host, char *why, size_t whylen);

/* Index of the first pattern that host matches, or -1. */
int mx_match_any(char *const *patterns, size_t n, const char *host);

#endif
