/* facts: what the probes gathered about one domain. Plain data, no judgement, no I/O. */
#include "facts.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/timeutil.h"

#include <stdlib.h>
#include <string.h>


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
	case DNS_CNAME_LOOP:
		return "CNAME loop";
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
	case FETCH_LOCAL:
		return "local";
	}
	return "error";
}

const char *fetch_step_str(enum fetch_step st)
{
	switch (st) {
	case FETCH_STEP_NONE:
		return "";
	case FETCH_STEP_CONNECT:
		return "TCP connect";
	case FETCH_STEP_TLS:
		return "TLS handshake";
	case FETCH_STEP_WAIT:
		return "the wait for the response headers";
	case FETCH_STEP_HEADERS:
		return "the response headers";
	case FETCH_STEP_BODY:
		return "the body";
	case FETCH_STEP_DONE:
		return "done";
	}
	return "";
}

const char *mx_pending_str(enum mx_pending p)
{
	switch (p) {
	case MX_PENDING_NONE:
		return "";
	case MX_PENDING_DNS:
		return "DNS A/AAAA";
	case MX_PENDING_STARTTLS:
		return "STARTTLS";
	}
	return "";
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
	case SMTP_LOCAL:
		return "local";
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
	for (size_t i = 0; i < df->n_mx; i++)
		free(df->mx[i].smtp);
	free(df->mx);
	df->mx = NULL;
	df->n_mx = 0;
	free(df->fetch.body);
	df->fetch.body = NULL;
}

void cert_problems_str(const struct cert_facts *cf, char *buf, size_t len)
{
	struct dynbuf sb;
	char when[32];

	dynbuf_init(&sb, len ? len - 1 : 0);
	if (cf->problems & CERT_P_NONE_PRESENTED)
		dynbuf_printf(&sb, "no certificate presented");
	if (cf->problems & CERT_P_EXPIRED)
		dynbuf_printf(&sb, "%sexpired %s", sb.len ? ", " : "",
			      time_rfc3339(cf->not_after, when, sizeof(when)));
	if (cf->problems & CERT_P_NOT_YET_VALID)
		dynbuf_printf(&sb, "%snot valid before %s", sb.len ? ", " : "",
			      time_rfc3339(cf->not_before, when, sizeof(when)));
	if (cf->problems & CERT_P_SELF_SIGNED)
		dynbuf_printf(&sb, "%sself-signed", sb.len ? ", " : "");
	if (cf->problems & CERT_P_MISSING_INTERMEDIATE)
		dynbuf_printf(&sb, "%sintermediate certificate missing (the server sends only its own "
			      "certificate; issuer %s is not a trusted root)", sb.len ? ", " : "",
			      cf->issuer);
	if (cf->problems & CERT_P_UNTRUSTED_ROOT)
		dynbuf_printf(&sb, "%schain ends at a CA that is not a trusted root (issuer %s)",
			      sb.len ? ", " : "", cf->issuer);
	if (cf->problems & CERT_P_CHAIN_EXPIRED)
		dynbuf_printf(&sb, "%san intermediate certificate expired %s", sb.len ? ", " : "",
			      time_rfc3339(cf->chain_not_after, when, sizeof(when)));
	if (cf->problems & CERT_P_NAME_MISMATCH)
		dynbuf_printf(&sb, "%snames %s, not %s", sb.len ? ", " : "",
			      cf->sans[0] ? cf->sans : "no DNS name (subject alternative name)",
			      cf->expected_name);
	if (cf->problems & CERT_P_OTHER)
		dynbuf_printf(&sb, "%s%s", sb.len ? ", " : "", cf->verify_text);
	bsnprintf(buf, len, "%s", sb.buf ? sb.buf : "");
	dynbuf_free(&sb);
}
