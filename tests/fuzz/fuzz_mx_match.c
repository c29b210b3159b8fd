/* libFuzzer target: MX pattern validity and matching (RFC 8461 3.2, 4.1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/mx_match.h"

#define WHY_MAX 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dup_upper(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; d && *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	return d;
}

/* "why" stays inside whylen and is terminated there. */
static void check_why(const char *why, size_t whylen)
{
	if (whylen && !memchr(why, '\0', whylen))
		__builtin_trap();
}

/* Input: pattern, '\n', host; a NUL ends either early, as in any C string. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t pn = nl ? (size_t)(nl - data) : size, hn = nl ? size - pn - 1 : 0;
	size_t whylen = size % (WHY_MAX + 1);
	char *pattern = malloc(pn + 1), *host = malloc(hn + 1), *why = malloc(WHY_MAX);
	char *upper;
	char *list[2];
	bool valid, match;

	memcpy(pattern, data, pn);
	pattern[pn] = '\0';
	if (hn)
		memcpy(host, nl + 1, hn);
	host[hn] = '\0';
	valid = mx_pattern_valid(pattern, why, whylen);
	check_why(why, whylen);
	match = mx_pattern_match(pattern, host, why, whylen);
	check_why(why, whylen);
	if (match != mx_pattern_match(pattern, host, NULL, 0))
		__builtin_trap();
	if (match && !valid)
		__builtin_trap();	/* an invalid pattern matches nothing */
	/* RFC 8461 4.1: matching ignores ASCII case */
	upper = dup_upper(host);
	if (upper && mx_pattern_match(pattern, upper, NULL, 0) != match)
		__builtin_trap();
	free(upper);
	/* a valid pattern matches its own text ("*" counts as the one label) */
	if (valid && !mx_pattern_match(pattern, pattern, NULL, 0))
		__builtin_trap();
	list[0] = NULL;
	list[1] = pattern;
	if (mx_match_any(list, 2, host) != (match ? 1 : -1))
		__builtin_trap();
	free(pattern);
	free(host);
	free(why);
	return 0;
}
