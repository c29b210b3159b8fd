/* dnsname: is a string a DNS host name, a mail domain worth watching? Pure. */
#include "dnsname.h"

#include <arpa/inet.h>
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

const char *mail_domain_why(const char *s)
{
	unsigned char buf[16];
	size_t len = strlen(s), label = 0, labels = 1, tld;
	bool digits_only = true;

	if (inet_pton(AF_INET, s, buf) == 1)
		return "an IPv4 address, not a domain name";
	if (strchr(s, ':') && inet_pton(AF_INET6, s, buf) == 1)
		return "an IPv6 address, not a domain name";
	if (len && s[len - 1] == '.')
		len--;
	if (len == 0)
		return "empty";
	if (len > 253)
		return "longer than the 253 bytes of a DNS name";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return "an empty label (a leading dot, or two dots)";
			if (s[i - 1] == '-')
				return "a label that ends with '-'";
			label = 0;
			labels++;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return "a byte that is not a letter, a digit, '-', '_' or '.'";
		if (c == '-' && label == 0)
			return "a label that begins with '-'";
		if (++label > 63)
			return "a label longer than 63 bytes";
	}
	if (label == 0)
		return "an empty label (a leading dot, or two dots)";
	if (s[len - 1] == '-')
		return "a label that ends with '-'";
	if (labels < 2)
		return "one label only: a mail domain has two at least (example.org)";
	for (tld = len; tld > 0 && s[tld - 1] != '.'; tld--)
		digits_only = digits_only && isdigit((unsigned char)s[tld - 1]);
	if (digits_only)
		return "its last label is all digits, which no top-level domain is";
	return NULL;
}

bool mail_domain_valid(const char *s)
{
	return mail_domain_why(s) == NULL;
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
	/* libidn2 converts the non-ASCII labels and passes the others through: a tab or a
	 * space in them stays, and what comes out must still be a name */
	if (strlen(a) >= len || !dns_name_valid(a))
		goto out;
	strlcpy_s(out, a, len);
	rc = 0;
out:
	idn2_free(a);
	return rc;
}
