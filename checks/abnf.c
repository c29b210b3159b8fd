/* abnf: the lexical pieces the MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) grammars share. */
#include "abnf.h"

#include <string.h>

#include "lib/str.h"

bool abnf_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

bool abnf_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool abnf_same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

bool abnf_ext_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > ABNF_EXT_NAME_MAX || !abnf_is_alnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!abnf_is_alnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

void abnf_show(char *dst, size_t dstlen, const char *s, size_t n, size_t max)
{
	size_t k = n < max ? n : max;

	printable_copy(dst, dstlen, s, k);
	if ((n > max || memchr(s, '\0', k)) && strlen(dst) + 4 < dstlen)
		strcat(dst, "...");
}
