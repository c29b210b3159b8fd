/* facts: what the probes gathered about one domain. Plain data, no judgement, no I/O. */
#include "facts.h"

#include <stdlib.h>
#include <string.h>

#include "../agent/util.h"

const char *dns_result_str(enum dns_result rc)
{
	switch (rc) {
	case DNS_NOT_ASKED:
		return "not asked";
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "NXDOMAIN";
	case DNS_NODATA:
		return "NODATA";
	case DNS_SERVFAIL:
		return "SERVFAIL";
	case DNS_REFUSED:
		return "REFUSED";
	case DNS_TIMEOUT:
		return "timeout";
	case DNS_ERROR:
		return "error";
	}
	return "error";
}

bool dns_result_definite(enum dns_result rc)
{
	return rc == DNS_OK || rc == DNS_NXDOMAIN || rc == DNS_NODATA;
}

const char *fetch_result_str(enum fetch_result rc)
{
	switch (rc) {
	case FETCH_NOT_ASKED:
		return "not asked";
	case FETCH_OK:
		return "ok";
	case FETCH_DNS:
		return "dns";
	case FETCH_CONNECT:
		return "connect";
	case FETCH_TLS:
		return "tls";
	case FETCH_CERT:
		return "certificate";
	case FETCH_TIMEOUT:
		return "timeout";
	case FETCH_TOO_LARGE:
		return "too large";
	case FETCH_PROTOCOL:
		return "protocol";
	}
	return "error";
}

const char *smtp_result_str(enum smtp_result rc)
{
	switch (rc) {
	case SMTP_NOT_ASKED:
		return "not asked";
	case SMTP_OK:
		return "ok";
	case SMTP_CONNECT:
		return "connect";
	case SMTP_TIMEOUT:
		return "timeout";
	case SMTP_REJECTED:
		return "rejected";
	case SMTP_PROTOCOL:
		return "protocol";
	case SMTP_NO_STARTTLS:
		return "no starttls";
	case SMTP_TLS:
		return "tls";
	case SMTP_SKIPPED:
		return "skipped";
	}
	return "error";
}

const char *smtp_stage_str(enum smtp_stage st)
{
	switch (st) {
	case SMTP_STAGE_CONNECT:
		return "connect";
	case SMTP_STAGE_BANNER:
		return "banner";
	case SMTP_STAGE_EHLO:
		return "EHLO";
	case SMTP_STAGE_STARTTLS:
		return "STARTTLS";
	case SMTP_STAGE_HANDSHAKE:
		return "TLS handshake";
	case SMTP_STAGE_DONE:
		return "done";
	}
	return "?";
}

void domain_facts_init(struct domain_facts *df, const char *domain)
{
	memset(df, 0, sizeof(*df));
	strlcpy_s(df->domain, domain, sizeof(df->domain));
	ascii_lower(df->domain);
	df->probe_policy = true;
	df->probe_mx = true;
}

void txt_answer_free(struct txt_answer *ta)
{
	for (size_t i = 0; i < ta->n; i++)
		free(ta->recs[i]);
	ta->n = 0;
}

void domain_facts_free(struct domain_facts *df)
{
	txt_answer_free(&df->sts_txt);
	txt_answer_free(&df->tlsrpt_txt);
	free(df->mx);
	df->mx = NULL;
	df->n_mx = 0;
	free(df->fetch.body);
	df->fetch.body = NULL;
}
