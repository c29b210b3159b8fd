/* facts: what the probes gathered about one domain. Plain data, no judgement, no I/O. */
#ifndef STSWATCH_FACTS_H
#define STSWATCH_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FACTS_MAX_TXT 16	/* TXT records kept per name */
#define FACTS_MAX_MX 16		/* MX hosts probed per domain */
#define FACTS_MAX_ADDRS 8	/* addresses probed per host and family */
#define IP_STR_LEN 46		/* INET6_ADDRSTRLEN */
#define HOST_LEN 256

/* The outcome of one DNS question. Only DNS_OK, DNS_NXDOMAIN and DNS_NODATA are answers. */
enum dns_result {
	DNS_NOT_ASKED = 0,
	DNS_OK,
	DNS_NXDOMAIN,
	DNS_NODATA,
	DNS_SERVFAIL,
	DNS_REFUSED,
	DNS_TIMEOUT,
	DNS_ERROR,	/* malformed answer, connection refused, anything else */
	DNS_CNAME_LOOP,	/* the answer is a chain of CNAMEs that leads back to itself */
};

/* "ok", "NXDOMAIN", "NODATA", "SERVFAIL", "REFUSED", "timeout", "error", "CNAME loop",
 * "not asked". */
const char *dns_result_str(enum dns_result rc);
/* Did the DNS give a definite answer (records, NXDOMAIN or NODATA)? */
bool dns_result_definite(enum dns_result rc);

struct txt_answer {
	enum dns_result rc;
	char detail[128];	/* resolver's words when rc is an error */
	size_t n;
	char *recs[FACTS_MAX_TXT];	/* strings of one record joined, NUL-terminated */
	size_t lens[FACTS_MAX_TXT];	/* byte length (the record may hold NUL bytes) */
	bool truncated;		/* more records than FACTS_MAX_TXT, or a record too long */
};

struct addr_answer {
	enum dns_result rc4, rc6;
	char detail[128];
	size_t n;
	struct {
		int family;	/* AF_INET or AF_INET6 */
		char ip[IP_STR_LEN];
	} v[2 * FACTS_MAX_ADDRS];
	bool truncated;
};

/* Problems found while verifying a certificate chain; a bit set, 0 is a good chain. */
enum cert_problem {
	CERT_P_NONE_PRESENTED = 1u << 0,	/* the peer sent no certificate */
	CERT_P_EXPIRED = 1u << 1,		/* the leaf is past notAfter */
	CERT_P_NOT_YET_VALID = 1u << 2,
	CERT_P_SELF_SIGNED = 1u << 3,		/* the leaf signs itself */
	CERT_P_MISSING_INTERMEDIATE = 1u << 4,	/* issuer not sent and not in the CA bundle */
	CERT_P_UNTRUSTED_ROOT = 1u << 5,	/* the chain ends at a root not in the bundle */
	CERT_P_NAME_MISMATCH = 1u << 6,		/* no SAN (or CN) matches the expected name */
	CERT_P_CHAIN_EXPIRED = 1u << 7,		/* an intermediate has expired */
	CERT_P_OTHER = 1u << 8,			/* another verification error (signature, purpose) */
};
#define CERT_P_UNTRUSTED (CERT_P_SELF_SIGNED | CERT_P_MISSING_INTERMEDIATE | \
			  CERT_P_UNTRUSTED_ROOT | CERT_P_CHAIN_EXPIRED | CERT_P_OTHER | \
			  CERT_P_NOT_YET_VALID)

struct cert_facts {
	bool present;
	unsigned problems;	/* enum cert_problem bits */
	int verify_error;	/* first OpenSSL X509_V_ERR_* seen, 0 when none */
	char verify_text[160];	/* OpenSSL's words for it, with the depth */
	char expected_name[HOST_LEN];	/* the name checked against */
	char subject[160];	/* leaf subject CN (or the whole subject) */
	char issuer[160];	/* leaf issuer CN and O */
	char sans[512];		/* DNS SANs, comma-separated, may be cut with "..." */
	time_t not_before, not_after;	/* leaf */
	time_t chain_not_after;	/* earliest notAfter of the intermediates sent, 0 if none */
	char sha256[65];	/* leaf fingerprint, lower-case hex */
	int chain_len;		/* certificates the peer sent */
};

enum fetch_result {
	FETCH_NOT_ASKED = 0,
	FETCH_OK,	/* an HTTP response arrived (any status) */
	FETCH_DNS,	/* the policy host has no address (or DNS failed) */
	FETCH_CONNECT,
	FETCH_TLS,	/* handshake failed for another reason than the certificate */
	FETCH_CERT,	/* the certificate did not verify; cert.problems says why */
	FETCH_TIMEOUT,
	FETCH_TOO_LARGE,	/* the body passed POLICY_MAX_BODY; status and headers are kept */
	FETCH_PROTOCOL,	/* not HTTP, or a broken response */
	FETCH_LOCAL,	/* this host could not try (no descriptor for a socket): not the domain's fault */
};

/* "ok", "dns", "connect", "tls", "certificate", "timeout", "too large", "protocol", "local". */
const char *fetch_result_str(enum fetch_result rc);

/* The step of the policy fetch it ended in (from libcurl's progress and our callbacks). */
enum fetch_step {
	FETCH_STEP_NONE = 0,	/* not started */
	FETCH_STEP_CONNECT,	/* the TCP connection */
	FETCH_STEP_TLS,		/* the TLS handshake */
	FETCH_STEP_WAIT,	/* the request sent, no byte of the response yet */
	FETCH_STEP_HEADERS,	/* the response head arriving, not complete */
	FETCH_STEP_BODY,	/* the head complete, the body arriving */
	FETCH_STEP_DONE,	/* the response complete */
};

/* "TCP connect", "TLS handshake", "the wait for the response headers", "the response
 * headers", "the body", "done"; "" for FETCH_STEP_NONE. */
const char *fetch_step_str(enum fetch_step st);

struct policy_fetch {
	enum fetch_result rc;
	enum fetch_step step;	/* where it ended */
	bool headers_too_large;	/* libcurl refused the response head for its size */
	char error[256];	/* what failed, in words */
	char url[320];
	char ip[IP_STR_LEN];	/* the address that answered */
	long http_status;
	char content_type[128];
	char location[512];	/* Location header on a redirect */
	char *body;		/* NUL-terminated, at most POLICY_MAX_BODY bytes */
	size_t body_len;
	uint32_t total_ms, connect_ms, tls_ms;
	char tls_version[16];
	struct cert_facts cert;
};

enum smtp_result {
	SMTP_NOT_ASKED = 0,
	SMTP_OK,		/* STARTTLS done and a TLS session set up */
	SMTP_CONNECT,		/* TCP connection failed */
	SMTP_TIMEOUT,		/* a step passed its deadline; stage says which */
	SMTP_REJECTED,		/* the server answered with a 4xx/5xx reply */
	SMTP_PROTOCOL,		/* a reply that is not SMTP, or too long */
	SMTP_NO_STARTTLS,	/* EHLO did not offer STARTTLS */
	SMTP_TLS,		/* the TLS handshake failed */
	SMTP_SKIPPED,		/* not probed: no route for this address family here */
	SMTP_LOCAL,		/* this host could not try (no descriptor for a socket) */
};

enum smtp_stage {
	SMTP_STAGE_CONNECT = 0,
	SMTP_STAGE_BANNER,
	SMTP_STAGE_EHLO,
	SMTP_STAGE_STARTTLS,
	SMTP_STAGE_HANDSHAKE,
	SMTP_STAGE_DONE,
};

/* "ok", "connect", "timeout", ... for logs and JSON. */
const char *smtp_result_str(enum smtp_result rc);
/* "connect", "banner", "EHLO", "STARTTLS", "TLS handshake", "done". */
const char *smtp_stage_str(enum smtp_stage st);

struct smtp_facts {
	int family;
	char ip[IP_STR_LEN];
	enum smtp_result rc;
	enum smtp_stage stage;	/* the step the probe ended in */
	char error[256];
	char banner[256];	/* first banner line, printable */
	bool starttls_offered;
	char tls_version[16];	/* "TLSv1.3" */
	int tls_version_num;	/* TLS1_2_VERSION and so on, 0 when no TLS */
	char cipher[64];
	struct cert_facts cert;
	uint32_t time_ms;
};

/* What of an MX host still ran when an outer deadline ended the check. */
enum mx_pending {
	MX_PENDING_NONE = 0,	/* its facts are in */
	MX_PENDING_DNS,		/* its A/AAAA lookup */
	MX_PENDING_STARTTLS,	/* its STARTTLS probes */
};

/* "", "DNS A/AAAA", "STARTTLS". */
const char *mx_pending_str(enum mx_pending p);

struct mx_host_facts {
	char name[HOST_LEN];	/* as in the MX record, lower case, no trailing dot */
	int preference;
	enum mx_pending pending;	/* not MX_PENDING_NONE: no facts, the deadline came first */
	struct addr_answer addrs;
	size_t n_smtp;
	struct smtp_facts *smtp;	/* one per address, same order as addrs */
};

struct domain_facts {
	char domain[HOST_LEN];	/* lower case, no trailing dot */
	time_t checked_at;
	bool probe_policy, probe_mx;	/* what was asked for */
	struct txt_answer sts_txt;	/* _mta-sts.DOMAIN */
	struct txt_answer tlsrpt_txt;	/* _smtp._tls.DOMAIN */
	enum dns_result mx_rc;
	char mx_detail[128];
	size_t n_mx;
	struct mx_host_facts *mx;	/* sorted by preference, then name */
	size_t mx_total;		/* MX hosts the answer named; the first n_mx of them by
					 * preference are probed (0: as many as n_mx) */
	bool mx_truncated;
	bool mx_null;			/* RFC 7505 "0 ." */
	struct addr_answer policy_addrs;	/* mta-sts.DOMAIN */
	struct policy_fetch fetch;
	bool deadline_hit;		/* stopped by an outer deadline before completion */
	/* facts about the monitor, not the domain (checks/vantage.c) */
	bool vantage_smtp_blocked;	/* its outbound port 25 appears blocked */
	bool vantage_dns_blind;		/* its resolver does not answer */
	char vantage_why[240];
	char pending[256];		/* what was still running then */
};

/* A one-line description of a certificate's problems ("expired ..., self-signed"). */
void cert_problems_str(const struct cert_facts *cf, char *buf, size_t len);
/* Zero a facts struct and set the domain. */
void domain_facts_init(struct domain_facts *df, const char *domain);
/* Free what a facts struct owns. */
void domain_facts_free(struct domain_facts *df);
/* Free the records of one TXT answer. */
void txt_answer_free(struct txt_answer *ta);

#endif
