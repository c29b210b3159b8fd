/* finding_class: what a finding means for alerting: the cause it is a symptom of, and
 * whether it can flicker (a refused connection) or is a fact that does not (a date). */
#include "finding_class.h"

#include <string.h>

#include "lib/str.h"

void finding_cause(enum finding_code code, const char *subject, char *buf, size_t len)
{
	size_t host = strcspn(subject ? subject : "", "[");

	switch (code) {
	case F_MX_UNRESOLVABLE:
	case F_MX_CONNECT:
	case F_MX_STARTTLS_MISSING:
	case F_MX_TLS_VERSION:
	case F_MX_TLS_HANDSHAKE:
	case F_MX_CERT_EXPIRED:
	case F_MX_CERT_EXPIRING:
	case F_MX_CERT_NAME:
	case F_MX_CERT_UNTRUSTED:
	case F_MX_CERT_RENEWED:
		/* every address of one MX host is one cause */
		bsnprintf(buf, len, "mx:%.*s", (int)host, subject ? subject : "");
		return;
	case F_MX_UNMATCHED:
		bsnprintf(buf, len, "policy-mx");	/* the policy does not cover the MX set */
		return;
	case F_MX_NONE:
	case F_MX_NULL:
	case F_MX_CHANGED:
	case F_MX_NOTE:
		bsnprintf(buf, len, "mx");
		return;
	case F_POLICY_CERT_EXPIRED:
	case F_POLICY_CERT_EXPIRING:
	case F_POLICY_CERT_NAME:
	case F_POLICY_CERT_UNTRUSTED:
	case F_POLICY_CERT_RENEWED:
		bsnprintf(buf, len, "policy-cert");
		return;
	case F_STS_TXT_MISSING:
	case F_STS_TXT_INVALID:
	case F_STS_TXT_MULTIPLE:
	case F_STS_TXT_NOTE:
	case F_STS_TXT_REMOVED:
	case F_STS_ID_CHANGED:
	case F_STS_ID_STALE:
	case F_STS_ID_REUSED:
		bsnprintf(buf, len, "txt");
		return;
	case F_CACHE_STALE_POLICY:
		bsnprintf(buf, len, "cache");
		return;
	case F_TLSRPT_MISSING:
	case F_TLSRPT_INVALID:
	case F_TLSRPT_MULTIPLE:
	case F_TLSRPT_NOTE:
		bsnprintf(buf, len, "tlsrpt");
		return;
	case F_DNS_ERROR:
	case F_DNS_NXDOMAIN:
	case F_CHECK_TIMEOUT:
	case F_CHECK_RESOURCES:
	case F_CHECK_VANTAGE:
		bsnprintf(buf, len, "domain");
		return;
	default:
		/* the rest is about the policy: its fetch, its content */
		bsnprintf(buf, len, "policy");
		return;
	}
}

bool finding_transient(enum finding_code code)
{
	switch (code) {
	case F_MX_CONNECT:		/* a refused or timed-out connection */
	case F_MX_TLS_HANDSHAKE:	/* a handshake cut short */
	case F_POLICY_FETCH:		/* the policy host did not answer */
	case F_POLICY_HTTP_STATUS:	/* a 503 during a deploy */
	case F_POLICY_SLOW:
	case F_POLICY_GONE:		/* follows a failed fetch */
	case F_DNS_ERROR:
	case F_CHECK_TIMEOUT:
	case F_CHECK_RESOURCES:
	case F_CHECK_VANTAGE:
		return true;
	default:
		/* dates, names, records and policies do not flicker */
		return false;
	}
}
