/* dnsname: is a string a DNS host name, a mail domain worth watching? Pure. */
#include "dnsname.h"

#include <ctype.h>
#include <idn2.h>
#include <string.h>

#include "lib/str.h"

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

int dns_name_to_alabel(const char *s, char *out, size_t len)
{
	char *a = NULL;
	bool ascii = true;
	int rc = -1;

	for (const char *p = s; *p; p++)
		ascii &= (unsigned char)*p < 0x80;
	if (ascii) {
		if (strlen(s) >= len)
			return -1;
		strlcpy_s(out, s, len);
		return 0;
	}
	/* IDNA 2008 with the input normalized to NFC, as a sender looking the name up does */
	if (idn2_to_ascii_8z(s, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK || !a)
		goto out;
	if (strlen(a) >= len)
		goto out;
	strlcpy_s(out, a, len);
	rc = 0;
out:
	idn2_free(a);
	return rc;
}
