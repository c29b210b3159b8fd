/* Unit tests of finding_class: which cause a finding is a symptom of (one incident per
 * cause, issue 9), and which findings can flicker and wait for confirm. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "checks/finding_class.h"
#include "lib/defs.h"

struct row {
	enum finding_code code;
	const char *subject;
	const char *cause;
	bool transient;
};

static const struct row rows[] = {
	/* every address of one MX host is one cause, whatever the symptom */
	{ F_MX_CERT_EXPIRED, "mx1.example.org[192.0.2.1]", "mx:mx1.example.org", false },
	{ F_MX_CERT_EXPIRED, "mx1.example.org[2001:db8::1]", "mx:mx1.example.org", false },
	{ F_MX_CONNECT, "mx1.example.org[192.0.2.1]", "mx:mx1.example.org", true },
	{ F_MX_TLS_HANDSHAKE, "mx2.example.org[192.0.2.2]", "mx:mx2.example.org", true },
	{ F_MX_STARTTLS_MISSING, "mx2.example.org[192.0.2.2]", "mx:mx2.example.org", false },
	{ F_MX_UNRESOLVABLE, "mx3.example.org", "mx:mx3.example.org", false },
	/* the policy does not cover the MX set: one cause for every uncovered host */
	{ F_MX_UNMATCHED, "mx9.example.net", "policy-mx", false },
	{ F_MX_NONE, "example.org", "mx", false },
	{ F_POLICY_CERT_EXPIRING, "mta-sts.example.org", "policy-cert", false },
	{ F_POLICY_CERT_NAME, "mta-sts.example.org", "policy-cert", false },
	{ F_POLICY_FETCH, "mta-sts.example.org", "policy", true },
	{ F_POLICY_HTTP_STATUS, "mta-sts.example.org", "policy", true },
	{ F_POLICY_INVALID, "line 3", "policy", false },
	{ F_STS_TXT_MISSING, "_mta-sts.example.org", "txt", false },
	{ F_STS_ID_STALE, "_mta-sts.example.org", "txt", false },
	{ F_CACHE_STALE_POLICY, "example.org", "cache", false },
	{ F_TLSRPT_MISSING, "_smtp._tls.example.org", "tlsrpt", false },
	{ F_DNS_ERROR, "MX example.org", "domain", true },
	{ F_CHECK_VANTAGE, "mx1.example.org[192.0.2.1]", "domain", true },
	/* no subject at all is a cause still */
	{ F_MX_CONNECT, NULL, "mx:", true },
};

static void test_rows(void **state)
{
	char cause[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		finding_cause(rows[i].code, rows[i].subject, cause, sizeof(cause));
		if (strcmp(cause, rows[i].cause) != 0 ||
		    finding_transient(rows[i].code) != rows[i].transient)
			fail_msg("row %zu (%s): cause \"%s\" transient %d, want \"%s\" %d", i,
				 rows[i].subject ? rows[i].subject : "(null)", cause,
				 finding_transient(rows[i].code), rows[i].cause, rows[i].transient);
	}
}

/* A cause longer than the buffer is cut, never overrun. */
static void test_bounded(void **state)
{
	char small[8];

	(void)state;
	memset(small, 'x', sizeof(small));
	finding_cause(F_MX_CERT_EXPIRED, "a-very-long-mx-host.example.org[192.0.2.1]", small,
		      sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "mx:a-ve", sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
