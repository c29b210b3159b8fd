/* dnsname: is a string a DNS host name, a mail domain worth watching? Pure. */
#include "dnsname.h"

#include <ctype.h>
#include <string.h>

bool dns_name_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	/* the last label is not empty either: "example.org.." is not a name */
	return label > 0 && s[len - 1] != '-';
}

bool mail_domain_valid(const char *s)
{
	const char *dot = strchr(s, '.');

	return dns_name_valid(s) && dot && dot[1];
}
