/*
 * judge: the pure verdict on one domain: (options, facts, the policy versions a sender may
 * still hold, now) -> findings, status, valid paths and fails_at. No I/O, no clock, no globals.
 *
 * The sender model (RFC 8461 sections 3.3, 4, 5): a sender looks up the TXT id; without a
 * cached policy, or with another id cached, it fetches the policy and caches it for max_age;
 * a failed fetch leaves a cached policy in force until it expires. In enforce mode it
 * delivers only to MX hosts that match a policy pattern and offer STARTTLS with TLS 1.2 or
 * later and a certificate that chains to a trusted root, is valid now and names the host.
 */
#include "judge.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mx_match.h"
#include "senders.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#define DAY 86400.0

void judge_opts_defaults(struct judge_opts *o)
{
	o->warn_days = 21;
	o->crit_days = 7;
	o->warn_frac = 1.0 / 3.0;
	o->crit_frac = 0.1;
	o->slow_ms = 10000;
	o->tlsrpt = true;
	o->timeout_sev = SEV_UNKNOWN;
	o->view = VIEW_LIVE;
}

void judge_findings_init(const struct judge_opts *o, struct findings *fs)
{
	findings_init(fs);
	fs->view = o->view;
}

void judge_cert_thresholds(const struct judge_opts *o, time_t not_before, time_t not_after,
			   double *warn_s, double *crit_s)
{
	double life = difftime(not_after, not_before);

	*warn_s = o->warn_days * DAY;
	*crit_s = o->crit_days * DAY;
	/* short-lived certificates are judged against their lifetime, not a fixed 21 days */
	if (life > 0 && o->warn_frac > 0 && o->warn_frac * life < *warn_s)
		*warn_s = o->warn_frac * life;
	if (life > 0 && o->crit_frac > 0 && o->crit_frac * life < *crit_s)
		*crit_s = o->crit_frac * life;
}

/* "in 5 days (2026-12-03T10:00:00Z)", "3 days ago (...)": lib/timeutil's one wording. */
static const char *when_str(time_t t, time_t now, char *buf, size_t len)
{
	char dist[48], iso[32];

	bsnprintf(buf, len, "%s (%s)", time_distance_str(t, now, dist, sizeof(dist)),
		  time_rfc3339(t, iso, sizeof(iso)));
	return buf;
}

/* Just the date, for evidence. */
static const char *iso_str(time_t t, char *buf, size_t len)
{
	return time_rfc3339(t, buf, len);
}

/*
 * The sender rule of RFC 8461 3.3 and 5.1: a sender holds a policy version until max_age
 * after it last could have fetched it, which is when another body replaced it; now while
 * it (or a body first seen now) is served; and when no usable policy is served now (the
 * host is down, answers 404 or an invalid policy, the TXT record is gone), the last good
 * fetch, the last time this monitor saw it served.
 */
static time_t held_until(const struct policy_version *pv, const struct verdict *v, time_t now)
{
	time_t last = pv->replaced_at ? pv->replaced_at : v->policy_usable ? now : pv->last_seen;

	return last + pv->max_age;
}

/*
 * The version senders with a cached copy keep enforcing when no usable policy is served
 * now (RFC 8461 5.1: they apply a cached policy that has not expired, whether the id is
 * unchanged or was bumped to a policy they cannot fetch): the newest version seen, while
 * held. NULL when a usable policy is served, when the TXT lookup could not tell, or for
 * --mx-only.
 */
static const struct policy_version *held_version(const struct domain_facts *df,
						 const struct history *h, const struct verdict *v,
						 time_t now)
{
	const struct policy_version *pv = h->n_versions ? &h->versions[0] : NULL;

	if (!pv || v->policy_usable || !df->probe_policy || !dns_result_definite(df->sts_txt.rc))
		return NULL;
	return held_until(pv, v, now) > now ? pv : NULL;
}

static bool txt_definitely_absent(enum dns_result rc)
{
	return rc == DNS_NXDOMAIN || rc == DNS_NODATA;
}

static void dns_error(struct findings *fs, const char *subject, const char *what,
		      enum dns_result rc, const char *detail, const char *consequence)
{
	struct finding_occurrence *fo = findings_add(fs, F_DNS_ERROR, SEV_UNKNOWN, subject);

	finding_set_what(fo, "DNS lookup of %s failed%s", what,
			 rc == DNS_CNAME_LOOP ? ": the name is a CNAME loop" : "");
	finding_set_evidence(fo, "%s", detail && detail[0] ? detail : dns_result_str(rc));
	finding_set_consequence(fo, "%s", consequence);
	if (rc == DNS_CNAME_LOOP)
		finding_set_fix(fo, "break the loop: point one of the CNAME records of the chain "
				"at a name that holds the record (or remove it)");
	else
		finding_set_fix(fo, "check the name servers of the zone and DNSSEC, or the "
				"resolver stswatch uses");
}

/* Media type of a Content-Type header: "text/plain; charset=utf-8" -> "text/plain". */
static bool content_type_ok(const char *ct)
{
	char mt[64];
	size_t n = strcspn(ct, ";");

	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n >= sizeof(mt))
		return false;
	memcpy(mt, ct, n);
	mt[n] = '\0';
	return ascii_strcasecmp(mt, "text/plain") == 0;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32)
		hex_encode(md, 32, out);
	else
		out[0] = '\0';
}

/* ---- TXT records ------------------------------------------------------------------- */

static void judge_txt_removed(const struct history *h, time_t now, const char *subject,
			      struct verdict *v)
{
	const struct policy_version *last = h->n_versions ? &h->versions[0] : NULL;
	struct finding_occurrence *fo;
	char when[80], until[32];

	fo = findings_add(&v->findings, F_STS_TXT_REMOVED, SEV_WARNING, subject);
	finding_set_what(fo, "the TXT record (id %s) is gone", h->txt_id);
	finding_set_evidence(fo, "last seen %s", when_str(h->txt_last_seen, now, when, sizeof(when)));
	finding_set_consequence(fo, "senders that cached the %s policy keep applying it until %s, "
				"new senders see no MTA-STS",
				last ? policy_mode_str(last->mode) : "cached",
				last ? iso_str(held_until(last, v, now), until, sizeof(until)) :
				"its max_age");
	finding_set_fix(fo, "to retire MTA-STS publish \"mode: none\" under a new id first and "
			"remove the record after max_age (RFC 8461 8.3)");
}

static void judge_txt(const struct domain_facts *df, const struct history *h, time_t now,
		      struct verdict *v)
{
	const struct txt_answer *ta = &df->sts_txt;
	struct finding_occurrence *fo;
	char subject[HOST_LEN + 16];

	bsnprintf(subject, sizeof(subject), "_mta-sts.%s", df->domain);
	if (ta->rc == DNS_NOT_ASKED)
		return;
	if (!dns_result_definite(ta->rc)) {
		dns_error(&v->findings, subject, "TXT _mta-sts", ta->rc, ta->detail,
			  "whether the domain publishes MTA-STS cannot be told, and senders that "
			  "see the same failure fall back to a cached policy or to none");
		return;
	}
	sts_txt_select((const char *const *)ta->recs, ta->lens, ta->n, &v->txt, &v->findings,
		       subject);
	if (ta->truncated) {
		fo = findings_add(&v->findings, F_STS_TXT_NOTE, SEV_INFO, subject);
		finding_set_what(fo, "more than %d TXT records at %s, more than this tool keeps",
				 FACTS_MAX_TXT, subject);
		finding_set_consequence(fo, "only the first %d were read (a limit of this tool; "
					"records are read whole)", FACTS_MAX_TXT);
	}
	if (!v->txt.valid && h->known && h->txt_id[0] && txt_definitely_absent(ta->rc))
		judge_txt_removed(h, now, subject, v);
}

static void judge_tlsrpt(const struct judge_opts *o, const struct domain_facts *df,
			 struct verdict *v)
{
	const struct txt_answer *ta = &df->tlsrpt_txt;
	char subject[HOST_LEN + 16];

	bsnprintf(subject, sizeof(subject), "_smtp._tls.%s", df->domain);
	if (ta->rc == DNS_NOT_ASKED)
		return;
	if (!dns_result_definite(ta->rc)) {
		if (o->tlsrpt)
			dns_error(&v->findings, subject, "TXT _smtp._tls", ta->rc, ta->detail,
				  "whether TLS-RPT is set up cannot be told");
		return;
	}
	if (!o->tlsrpt) {
		struct findings scratch;

		findings_init(&scratch);
		tlsrpt_select((const char *const *)ta->recs, ta->lens, ta->n, &v->tlsrpt, &scratch,
			      subject);
		findings_free(&scratch);
		return;
	}
	tlsrpt_select((const char *const *)ta->recs, ta->lens, ta->n, &v->tlsrpt, &v->findings,
		      subject);
}

/* ---- certificates ------------------------------------------------------------------- */

static void cert_findings(const struct cert_facts *cf, enum finding_code c_expired,
			  enum finding_code c_name, enum finding_code c_untrusted, enum severity sev,
			  const char *subject, const char *consequence, time_t now,
			  struct findings *fs)
{
	struct finding_occurrence *fo;
	char dist[48], iso[32], why[512];

	if (cf->problems & CERT_P_EXPIRED) {
		fo = findings_add(fs, c_expired, sev, subject);
		finding_set_what(fo, "certificate expired %s",
				 time_distance_str(cf->not_after, now, dist, sizeof(dist)));
		finding_set_evidence(fo, "notAfter %s, issuer %s",
				     iso_str(cf->not_after, iso, sizeof(iso)), cf->issuer);
		finding_set_consequence(fo, "%s", consequence);
		finding_set_fix(fo, "renew it and check the renewal job");
	}
	if (cf->problems & CERT_P_NAME_MISMATCH) {
		fo = findings_add(fs, c_name, sev, subject);
		finding_set_what(fo, "certificate names %s, not %s",
				 cf->sans[0] ? cf->sans : "no DNS name at all", cf->expected_name);
		finding_set_evidence(fo, "RFC 8461 4.2 wants a DNS-ID for the host");
		finding_set_consequence(fo, "%s", consequence);
		finding_set_fix(fo, "get a certificate with %s in its subject alternative names",
				cf->expected_name);
	}
	if (cf->problems & CERT_P_UNTRUSTED) {
		unsigned rest = cf->problems & CERT_P_UNTRUSTED;
		struct cert_facts only = *cf;

		only.problems = rest;
		cert_problems_str(&only, why, sizeof(why));
		fo = findings_add(fs, c_untrusted, sev, subject);
		finding_set_what(fo, "certificate is not trusted");
		finding_set_evidence(fo, "%s", why);
		finding_set_consequence(fo, "%s", consequence);
		finding_set_fix(fo, "%s", rest & CERT_P_MISSING_INTERMEDIATE ?
				"configure the server to send the intermediate certificate(s) with "
				"its own" : rest & CERT_P_SELF_SIGNED ?
				"use a certificate from a public CA (for example ACME/Let's Encrypt)" :
				"use a certificate that chains to a public root");
	}
}

/* Expiry warnings for a certificate that verifies; the caller decides critical-ness. */
static enum severity expiry_severity(const struct judge_opts *o, const struct cert_facts *cf,
				     time_t now, bool may_be_critical)
{
	double warn_s, crit_s, left = difftime(cf->not_after, now);

	judge_cert_thresholds(o, cf->not_before, cf->not_after, &warn_s, &crit_s);
	if (left < crit_s)
		return may_be_critical ? SEV_CRITICAL : SEV_WARNING;
	if (left < warn_s)
		return SEV_WARNING;
	return SEV_INFO;
}

/* cert.expiring: "certificate expires in 5 days (notAfter ..., issuer ...)". */
static void cert_expiring(struct findings *fs, enum finding_code code, enum severity sev,
			  const char *subject, const char *issuer, time_t end, time_t now,
			  const char *consequence)
{
	struct finding_occurrence *fo = findings_add(fs, code, sev, subject);
	char dist[48], iso[32];

	finding_set_what(fo, "certificate expires %s", time_distance_str(end, now, dist,
								       sizeof(dist)));
	finding_set_evidence(fo, "notAfter %s, issuer %s", iso_str(end, iso, sizeof(iso)), issuer);
	finding_set_consequence(fo, "%s", consequence);
	finding_set_fix(fo, "renew it now and check the renewal job");
}

/* The renewal habit of a subject's certificates, the one seen now the newest. */
static bool renewal_of(const struct history *h, const char *subject, const struct cert_facts *cf,
		       time_t now, struct renewal_habit *out)
{
	struct renewal_cert v[RENEWAL_HISTORY + 1];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < h->n_certs && !n; k++) {
		const struct cert_seen *cs = &h->certs[k];

		if (strcmp(cs->subject, subject) != 0)
			continue;
		memcpy(v, cs->hist, cs->n_hist * sizeof(v[0]));
		n = cs->n_hist;
	}
	if (!n)
		return false;
	if (v[n - 1].not_after != cf->not_after || v[n - 1].not_before != cf->not_before) {
		v[n].first_seen = now;
		v[n].not_before = cf->not_before;
		v[n].not_after = cf->not_after;
		n++;
	}
	renewal_habit_of(v, n, out);
	return out->known;
}

/*
 * The expiry of a certificate that verifies. By the thresholds (days, or a fraction of
 * the lifetime), unless the history shows a renewal habit: then quiet while the renewal
 * is not yet due, a warning as soon as it is overdue (the critical threshold stays the
 * backstop either way), so an automated renewal gives no warning every cycle and a
 * broken renewal job is seen as soon as it missed its usual time.
 */
static void cert_expiry(const struct judge_opts *o, const struct history *h,
			const char *subject, const struct cert_facts *cf, time_t end, time_t now,
			bool may_be_critical, enum finding_code code, const char *consequence,
			struct findings *fs)
{
	enum severity sev = expiry_severity(o, cf, now, may_be_critical);
	struct renewal_habit habit;
	double warn_s, crit_s;
	struct finding_occurrence *fo;
	char dist[48], iso[32], due[32];

	judge_cert_thresholds(o, cf->not_before, cf->not_after, &warn_s, &crit_s);
	if (!renewal_of(h, subject, cf, now, &habit)) {
		if (sev != SEV_INFO)
			cert_expiring(fs, code, sev, subject, cf->issuer, end, now, consequence);
		return;
	}
	if (now < habit.overdue) {
		if (difftime(cf->not_after, now) < crit_s) {
			cert_expiring(fs, code, sev, subject, cf->issuer, end, now, consequence);
			return;
		}
		if (sev == SEV_INFO)
			return;
		fo = findings_add(fs, code, SEV_INFO, subject);
		finding_set_what(fo, "certificate expires %s; its renewal is not due yet",
				 time_distance_str(end, now, dist, sizeof(dist)));
		finding_set_evidence(fo, "renewed at about %.0f days left %u times; due by %s",
				     habit.left_days, habit.renewals,
				     iso_str(habit.due, due, sizeof(due)));
		return;
	}
	fo = findings_add(fs, code, severity_worst(sev, SEV_WARNING), subject);
	finding_set_what(fo, "the certificate's renewal is overdue: it expires %s",
			 time_distance_str(end, now, dist, sizeof(dist)));
	finding_set_evidence(fo, "renewed at about %.0f days before expiry in the last %u "
			     "renewals, so due by %s; notAfter %s, issuer %s", habit.left_days,
			     habit.renewals, iso_str(habit.due, due, sizeof(due)),
			     iso_str(end, iso, sizeof(iso)), cf->issuer);
	finding_set_consequence(fo, "%s", consequence);
	finding_set_fix(fo, "the renewal job (an ACME client, its timer or cron) did not run or "
			"failed: look at it now, while the certificate is still valid");
}

/* cert.renewed: the certificate seen for subject before is replaced by a later one. */
static void cert_renewed(const struct history *h, enum finding_code code, const char *subject,
			 const struct cert_facts *cf, struct findings *fs)
{
	char a[32], b[32];

	if (!cf->present)
		return;
	for (size_t k = 0; k < h->n_certs; k++) {
		const struct cert_seen *cs = &h->certs[k];
		struct finding_occurrence *fo;

		if (strcmp(cs->subject, subject) != 0 || !cs->sha256[0] ||
		    strcmp(cs->sha256, cf->sha256) == 0 || cf->not_after <= cs->not_after)
			continue;
		fo = findings_add(fs, code, SEV_INFO, subject);
		finding_set_what(fo, "certificate renewed");
		finding_set_evidence(fo, "notAfter %s -> %s", iso_str(cs->not_after, a, sizeof(a)),
				     iso_str(cf->not_after, b, sizeof(b)));
	}
}

/* ---- the policy --------------------------------------------------------------------- */

#define POLICY_CONSEQ "senders cannot fetch the policy, so new senders apply no MTA-STS " \
	"and senders with a cached copy keep it until it expires"

/* The fix for a fetch that failed, in words for the step and the cause. */
static void fetch_fix(struct finding_occurrence *fo, const struct policy_fetch *pf,
		      const char *host)
{
	if (pf->rc == FETCH_CONNECT) {
		finding_set_fix(fo, "make %s accept HTTPS connections on port 443", host);
	} else if (pf->rc == FETCH_TLS) {
		finding_set_fix(fo, "fix the TLS set-up of the HTTPS server of %s (TLS 1.2 or "
				"later, its certificate and key files)", host);
	} else if (pf->rc == FETCH_TIMEOUT) {
		switch (pf->step) {
		case FETCH_STEP_CONNECT:
			finding_set_fix(fo, "let senders connect to %s on port 443: the TCP "
					"connection is not answered (a firewall that drops it, or "
					"the host is down)", host);
			return;
		case FETCH_STEP_TLS:
			finding_set_fix(fo, "the server of %s accepts the connection and stalls in "
					"the TLS handshake: check its TLS set-up, or what sits in "
					"front of it", host);
			return;
		case FETCH_STEP_WAIT:
		case FETCH_STEP_HEADERS:
			finding_set_fix(fo, "the server of %s takes the request and does not "
					"answer it in time: serve /.well-known/mta-sts.txt as a "
					"static file, not through a slow application or upstream",
					host);
			return;
		case FETCH_STEP_BODY:
			finding_set_fix(fo, "the server of %s sends the policy too slowly: serve "
					"it as a small static file, without a rate limit", host);
			return;
		default:
			finding_set_fix(fo, "make %s answer HTTPS on port 443 in time", host);
			return;
		}
	} else if (pf->headers_too_large) {
		finding_set_fix(fo, "the server of %s sends response headers without end (or of "
				"several hundred KiB), which senders do not read: fix the server "
				"or the proxy in front of it so the response has a normal head",
				host);
	} else if (pf->step == FETCH_STEP_WAIT) {
		finding_set_fix(fo, "the server of %s closes or breaks the connection without an "
				"HTTP response: make it answer GET /.well-known/mta-sts.txt", host);
	} else if (pf->step == FETCH_STEP_HEADERS) {
		finding_set_fix(fo, "the server of %s sends a malformed HTTP response head: make "
				"it answer with a well-formed HTTP/1.1 response", host);
	} else if (pf->step == FETCH_STEP_BODY) {
		finding_set_fix(fo, "the server of %s breaks off or garbles the body (length or "
				"chunked encoding): serve the policy as a plain static file", host);
	} else {
		finding_set_fix(fo, "make %s answer HTTPS on port 443", host);
	}
}

/* A fetch that did not get a response. Returns false when nothing more is to be judged. */
static bool policy_fetch_failed(const struct domain_facts *df, const char *host, const char *url,
				bool txt_absent, struct verdict *v)
{
	const struct policy_fetch *pf = &df->fetch;
	const struct addr_answer *pa = &df->policy_addrs;
	struct finding_occurrence *fo;

	switch (pf->rc) {
	case FETCH_NOT_ASKED:
		return false;
	case FETCH_LOCAL:
		/* our own shortage says nothing about the domain: could not tell */
		fo = findings_add(&v->findings, F_CHECK_RESOURCES, SEV_UNKNOWN, host);
		finding_set_what(fo, "%s was not fetched", url);
		finding_set_evidence(fo, "%s", pf->error);
		finding_set_consequence(fo, "that is a limit of this monitor, not a fault of the "
					"domain, so whether senders can fetch the policy is not known");
		finding_set_fix(fo, "raise stswatch's open-files limit (LimitNOFILE=) or lower its "
				"concurrency");
		return false;
	case FETCH_DNS:
		if (!dns_result_definite(pa->rc4) ||
		    (pa->rc6 != DNS_NOT_ASKED && !dns_result_definite(pa->rc6))) {
			enum dns_result bad = dns_result_definite(pa->rc4) ? pa->rc6 : pa->rc4;

			dns_error(&v->findings, host, "A/AAAA mta-sts", bad, pa->detail,
				  "whether the policy host exists cannot be told");
			return false;
		}
		if (txt_absent)
			return false;	/* no MTA-STS at all: sts.txt.missing says it */
		fo = findings_add(&v->findings, F_POLICY_FETCH, SEV_CRITICAL, host);
		finding_set_what(fo, "%s has no A or AAAA record, so %s cannot be fetched", host,
				 url);
		finding_set_consequence(fo, POLICY_CONSEQ);
		finding_set_fix(fo, "publish an address for %s that serves the policy over HTTPS",
				host);
		return false;
	case FETCH_CONNECT:
	case FETCH_TIMEOUT:
	case FETCH_TLS:
	case FETCH_PROTOCOL:
		fo = findings_add(&v->findings, F_POLICY_FETCH, SEV_CRITICAL, host);
		if (pf->rc == FETCH_TIMEOUT && pf->step != FETCH_STEP_NONE)
			finding_set_what(fo, "fetching %s timed out during %s", url,
					 fetch_step_str(pf->step));
		else
			finding_set_what(fo, "fetching %s failed", url);
		finding_set_evidence(fo, "%s%s%s: %s", fetch_result_str(pf->rc),
				     pf->ip[0] ? " at " : "", pf->ip, pf->error);
		finding_set_consequence(fo, POLICY_CONSEQ);
		fetch_fix(fo, pf, host);
		break;
	case FETCH_CERT:
		if (pf->cert.problems)
			break;	/* the certificate findings say what is wrong */
		fo = findings_add(&v->findings, F_POLICY_CERT_UNTRUSTED, SEV_CRITICAL, host);
		finding_set_what(fo, "certificate rejected while fetching %s", url);
		finding_set_evidence(fo, "%s", pf->error);
		finding_set_consequence(fo, POLICY_CONSEQ);
		finding_set_fix(fo, "use a certificate for %s that chains to a public root", host);
		break;
	case FETCH_TOO_LARGE:
		/* fetch.body_over_64k: the readers that take it are not most senders */
		fo = senders_add(&v->findings, F_POLICY_TOO_LARGE, SEV_CRITICAL, host,
				 SR_FETCH_BODY_OVER_64K);
		finding_set_what(fo, "%s is larger than %d bytes", url, POLICY_MAX_BODY);
		finding_set_evidence(fo, "RFC 8461 3.3 lets senders stop reading at 64 KiB");
		finding_set_fix(fo, "serve the plain policy file only");
		break;
	case FETCH_OK:
		break;
	}
	return true;
}

/* The certificate of the policy host, whenever one was seen. */
static void policy_cert(const struct judge_opts *o, const struct domain_facts *df,
			const struct history *h, const char *host, time_t now, struct verdict *v)
{
	const struct cert_facts *cf = &df->fetch.cert;

	if (!cf->present)
		return;
	v->policy_cert_not_after = cf->not_after;
	cert_findings(cf, F_POLICY_CERT_EXPIRED, F_POLICY_CERT_NAME, F_POLICY_CERT_UNTRUSTED,
		      SEV_CRITICAL, host, POLICY_CONSEQ, now, &v->findings);
	if (!cf->problems)
		cert_expiry(o, h, host, cf, cf->not_after, now, true, F_POLICY_CERT_EXPIRING,
			    "after that " POLICY_CONSEQ, &v->findings);
	cert_renewed(h, F_POLICY_CERT_RENEWED, host, cf, &v->findings);
}

/* The HTTP response: status, redirect, media type, time. Returns whether a body counts. */
static bool policy_response(const struct judge_opts *o, const struct policy_fetch *pf,
			    const char *host, const char *url, struct verdict *v)
{
	struct finding_occurrence *fo;

	if (pf->http_status >= 300 && pf->http_status < 400) {
		fo = findings_add(&v->findings, F_POLICY_REDIRECT, SEV_CRITICAL, host);
		finding_set_what(fo, "%s answers HTTP %ld redirecting to %s", url, pf->http_status,
				 pf->location[0] ? pf->location : "(no Location)");
		finding_set_evidence(fo, "RFC 8461 3.3: senders do not follow redirects");
		finding_set_consequence(fo, "senders get no policy");
		finding_set_fix(fo, "serve the file directly with status 200");
		return false;
	}
	if (pf->http_status != 200) {
		if (pf->http_status > 200 && pf->http_status < 300) {
			/* fetch.status_2xx_not_200: Stalwart and mailauth take any 2xx */
			fo = senders_add(&v->findings, F_POLICY_HTTP_STATUS, SEV_CRITICAL, host,
					 SR_FETCH_STATUS_2XX);
		} else {
			fo = findings_add(&v->findings, F_POLICY_HTTP_STATUS, SEV_CRITICAL, host);
			finding_set_consequence(fo, "senders treat that as no policy");
		}
		finding_set_what(fo, "%s answers HTTP %ld, not 200", url, pf->http_status);
		finding_set_evidence(fo, "RFC 8461 3.3");
		finding_set_fix(fo, "serve /.well-known/mta-sts.txt with status 200");
		return false;
	}
	if (!content_type_ok(pf->content_type)) {
		/*
		 * fetch.ctype_other, fetch.ctype_missing: more known senders take the policy
		 * than refuse it, so it stays in force for them and this is a WARNING
		 */
		fo = senders_add(&v->findings, F_POLICY_CONTENT_TYPE, SEV_WARNING, host,
				 pf->content_type[0] ? SR_FETCH_CTYPE_OTHER : SR_FETCH_CTYPE_MISSING);
		finding_set_what(fo, "%s is served as \"%s\", not text/plain", url,
				 pf->content_type[0] ? pf->content_type : "(no Content-Type)");
		finding_set_evidence(fo, "RFC 8461 3.3; a CMS or error page often answers here");
		finding_set_fix(fo, "serve it with Content-Type: text/plain");
	}
	if (pf->total_ms > o->slow_ms) {
		/* fetch.slow_10s: some senders give up long before the RFC's minute */
		fo = pf->total_ms >= 10000 ?
		     senders_add(&v->findings, F_POLICY_SLOW, SEV_WARNING, host, SR_FETCH_SLOW_10S) :
		     findings_add(&v->findings, F_POLICY_SLOW, SEV_WARNING, host);
		finding_set_what(fo, "fetching %s took %.1f s", url, pf->total_ms / 1000.0);
		finding_set_evidence(fo, "threshold %.1f s", o->slow_ms / 1000.0);
		if (pf->total_ms < 10000)
			finding_set_consequence(fo, "senders give up after about a minute and some "
						"much sooner");
		finding_set_fix(fo, "make the policy host answer faster");
	}
	return true;
}

/* The body: parsed, hashed, and whether senders would use it. */
static void policy_body(const struct domain_facts *df, const char *host, const char *url,
			bool txt_absent, struct verdict *v)
{
	const struct policy_fetch *pf = &df->fetch;
	struct finding_occurrence *fo;

	v->have_policy = true;
	sha256_hex(pf->body ? pf->body : "", pf->body_len, v->policy_sha256);
	policy_parse(pf->body ? pf->body : "", pf->body_len, &v->policy, &v->findings, url);
	/* a wrong media type is a WARNING: most known senders still use the policy */
	v->policy_usable = v->policy.valid && v->txt.valid;
	if (v->policy_usable)
		v->mode = v->policy.mode;
	if (v->policy.valid && txt_absent) {
		fo = findings_add(&v->findings, F_POLICY_NOTE, SEV_INFO, host);
		finding_set_what(fo, "a valid %s policy is served at %s, but there is no TXT record "
				 "at _mta-sts.%s", policy_mode_str(v->policy.mode), url, df->domain);
		finding_set_consequence(fo, "senders never fetch it");
		finding_set_fix(fo, "publish the TXT record, or remove the policy");
	}
}

static void policy_gone(const struct domain_facts *df, const struct history *h,
			const char *host, const char *url, time_t now, struct verdict *v)
{
	const struct policy_version *pv = held_version(df, h, v, now);
	struct finding_occurrence *fo;
	char when[80], until[80];

	if (!h->policy_served)
		return;
	fo = findings_add(&v->findings, F_POLICY_GONE, SEV_WARNING, host);
	finding_set_what(fo, "%s no longer serves a valid policy", url);
	finding_set_evidence(fo, "it did until %s",
			     when_str(h->policy_last_served, now, when, sizeof(when)));
	if (pv)
		finding_set_consequence(fo, "senders that cached the %s policy of id %s keep "
					"enforcing it until %s (the last good fetch plus its "
					"max_age), and it is judged below; senders without a "
					"cached copy deliver without MTA-STS (RFC 8461 5.1)",
					policy_mode_str(pv->mode), pv->txt_id,
					when_str(held_until(pv, v, now), now, until, sizeof(until)));
	else
		finding_set_consequence(fo, "senders that cached it keep it until it expires, new "
					"senders get none");
	finding_set_fix(fo, "serve the policy again, or retire MTA-STS as RFC 8461 8.3 says");
}

static void judge_policy(const struct judge_opts *o, const struct domain_facts *df,
			 const struct history *h, time_t now, struct verdict *v)
{
	const struct policy_fetch *pf = &df->fetch;
	char host[HOST_LEN + 16];
	const char *url = pf->url[0] ? pf->url : "the policy URL";
	bool txt_absent = !v->txt.valid && txt_definitely_absent(df->sts_txt.rc);

	bsnprintf(host, sizeof(host), "mta-sts.%s", df->domain);
	if (!policy_fetch_failed(df, host, url, txt_absent, v))
		return;
	policy_cert(o, df, h, host, now, v);
	if (pf->rc == FETCH_OK && policy_response(o, pf, host, url, v)) {
		policy_body(df, host, url, txt_absent, v);
		if (!v->policy.valid)
			policy_gone(df, h, host, url, now, v);
	} else {
		policy_gone(df, h, host, url, now, v);
	}
}

/*
 * No usable policy now, and senders still hold the last one (held_version): the MX hosts
 * are judged under it, and protection ends when they drop it.
 */
static void judge_cache(const struct domain_facts *df, const struct history *h, time_t now,
			struct verdict *v)
{
	const struct policy_version *pv = held_version(df, h, v, now);

	if (!pv)
		return;
	v->under_cache = true;
	v->cached.valid = true;
	v->cached.version_ok = true;
	v->cached.mode = pv->mode;
	v->cached.max_age = pv->max_age;
	v->cached.n_mx = pv->n_mx;
	v->cached.mx = xcalloc(pv->n_mx ? pv->n_mx : 1, sizeof(*v->cached.mx));
	for (size_t i = 0; i < pv->n_mx; i++)
		v->cached.mx[i] = xstrdup(pv->mx[i]);
	strlcpy_s(v->cached_id, pv->txt_id, sizeof(v->cached_id));
	v->cached_fetched = pv->last_seen;
	v->protection_ends = held_until(pv, v, now);
}

const struct policy *verdict_mx_policy(const struct verdict *v)
{
	if (v->under_cache)
		return &v->cached;
	return v->have_policy ? &v->policy : NULL;
}

/* ---- MX hosts ------------------------------------------------------------------------ */

static bool addr_good(const struct smtp_facts *s)
{
	return s->rc == SMTP_OK && s->tls_version_num >= TLS1_2_VERSION && s->cert.present &&
	       s->cert.problems == 0;
}

static time_t addr_good_until(const struct smtp_facts *s)
{
	time_t t = s->cert.not_after;

	if (s->cert.chain_not_after && s->cert.chain_not_after < t)
		t = s->cert.chain_not_after;
	return t;
}

/* The severity a policy's mode gives a host senders would refuse: enforce refuses now. */
static enum severity mode_severity(enum policy_mode mode)
{
	return mode == POLICY_MODE_ENFORCE ? SEV_CRITICAL :
	       mode == POLICY_MODE_TESTING ? SEV_WARNING : SEV_INFO;
}

/* Severity of an MX failure, given the mode and whether a valid path remains. */
static enum severity path_severity(enum policy_mode mode, unsigned valid_paths)
{
	switch (mode) {
	case POLICY_MODE_ENFORCE:
		return valid_paths ? SEV_WARNING : SEV_CRITICAL;
	case POLICY_MODE_TESTING:
		return SEV_WARNING;
	default:
		return SEV_INFO;
	}
}

static const char *mode_consequence(enum policy_mode mode, unsigned valid_paths)
{
	switch (mode) {
	case POLICY_MODE_ENFORCE:
		return valid_paths ? "compliant senders skip this path and use the other MX hosts" :
		       "no MX host is left for compliant senders: mail to the domain fails";
	case POLICY_MODE_TESTING:
		return "in testing mode mail still flows, but this path fails under enforce and "
		       "senders report it by TLS-RPT";
	default:
		return "without an enforced policy senders deliver anyway";
	}
}

void judge_mx_unmatched(const struct policy *p, enum policy_mode mode, const char *host,
			struct findings *fs)
{
	enum { REASONS = 4 };
	struct finding_occurrence *fo;
	struct dynbuf ev;
	char why[256];

	dynbuf_init(&ev, 2048);
	if (!p->n_mx)
		dynbuf_printf(&ev, "the policy has no mx pattern");
	else
		dynbuf_printf(&ev, "%zu pattern%s", p->n_mx, p->n_mx == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_mx && i < REASONS; i++) {
		mx_pattern_match(p->mx[i], host, why, sizeof(why));
		dynbuf_printf(&ev, "; %s", why);
	}
	if (p->n_mx > REASONS)
		dynbuf_printf(&ev, "; and %zu more", p->n_mx - REASONS);
	fo = findings_add(fs, F_MX_UNMATCHED, mode_severity(mode), host);
	finding_set_what(fo, "MX %s is not covered by any policy mx pattern", host);
	finding_set_evidence(fo, "%s", ev.buf ? ev.buf : "");
	finding_set_consequence(fo, "compliant senders %s it", mode == POLICY_MODE_ENFORCE ?
				"refuse to deliver to" : "would refuse under enforce to deliver to");
	finding_set_fix(fo, "add \"mx: %s\" to the policy and bump the id", host);
	dynbuf_free(&ev);
}

/*
 * A step of the SMTP session passed its deadline: "timed out during STEP", filed where the
 * step belongs (a stalled TLS handshake is a TLS failure, not a refused connection) with a
 * fix for that step; the severity is the path's, as for any other failure of the address.
 */
static void smtp_timeout_finding(const char *host, const char *subject,
				 const struct smtp_facts *s, enum severity sev, const char *cons,
				 struct findings *fs)
{
	struct finding_occurrence *fo;
	const char *fix;

	switch (s->stage) {
	case SMTP_STAGE_CONNECT:
		fix = "let senders connect to port 25 of this address: the TCP connection is "
		      "not answered (a firewall that drops it, or the host is down)";
		break;
	case SMTP_STAGE_BANNER:
		fix = "make the server send its 220 greeting at once (an overloaded or stalled "
		      "MTA, or a filter in front of it, holds the connection)";
		break;
	case SMTP_STAGE_EHLO:
		fix = "make the server answer EHLO";
		break;
	case SMTP_STAGE_STARTTLS:
		fix = "make the server answer STARTTLS (220, then the TLS handshake)";
		break;
	default:
		fix = NULL;
		break;
	}
	fo = findings_add(fs, s->stage == SMTP_STAGE_HANDSHAKE ? F_MX_TLS_HANDSHAKE : F_MX_CONNECT,
			  sev, subject);
	finding_set_what(fo, "SMTP on port 25 timed out during %s", smtp_stage_str(s->stage));
	finding_set_evidence(fo, "%s", s->error);
	finding_set_consequence(fo, "%s", cons);
	if (fix)
		finding_set_fix(fo, "%s", fix);
	else
		finding_set_fix(fo, "the server accepted STARTTLS and stalled in the TLS handshake: "
				"check the TLS settings and certificate files of %s", host);
}

static void smtp_findings(const char *host, const struct smtp_facts *s, enum policy_mode mode,
			  unsigned valid_paths, bool blocked, time_t now, struct findings *fs)
{
	char subject[HOST_LEN + IP_STR_LEN + 4];
	enum severity sev = path_severity(mode, valid_paths);
	const char *cons = mode_consequence(mode, valid_paths);
	struct finding_occurrence *fo;

	bsnprintf(subject, sizeof(subject), "%s[%s]", host, s->ip);
	switch (s->rc) {
	case SMTP_NOT_ASKED:
	case SMTP_SKIPPED:
		return;
	case SMTP_LOCAL:
		fo = findings_add(fs, F_CHECK_RESOURCES, SEV_UNKNOWN, subject);
		finding_set_what(fo, "STARTTLS was not tried");
		finding_set_evidence(fo, "%s", s->error);
		finding_set_consequence(fo, "that is a limit of this monitor, not a fault of the MX, "
					"so whether senders can deliver here is not known");
		finding_set_fix(fo, "raise stswatch's open-files limit (LimitNOFILE=) or lower its "
				"concurrency");
		return;
	case SMTP_TIMEOUT:
		if (blocked && s->stage == SMTP_STAGE_CONNECT)
			return;	/* the monitor cannot reach port 25: check.vantage says it */
		smtp_timeout_finding(host, subject, s, sev, cons, fs);
		return;
	case SMTP_CONNECT:
	case SMTP_REJECTED:
	case SMTP_PROTOCOL:
		if (blocked && s->stage == SMTP_STAGE_CONNECT && s->rc == SMTP_CONNECT)
			return;	/* the monitor cannot reach port 25: check.vantage says it */
		fo = findings_add(fs, F_MX_CONNECT, sev, subject);
		finding_set_what(fo, "SMTP on port 25 failed at %s", smtp_stage_str(s->stage));
		finding_set_evidence(fo, "%s", s->error);
		finding_set_consequence(fo, "%s", cons);
		finding_set_fix(fo, "make the MX answer SMTP here");
		return;
	case SMTP_NO_STARTTLS:
		fo = findings_add(fs, F_MX_STARTTLS_MISSING, sev, subject);
		finding_set_what(fo, "the EHLO reply does not offer STARTTLS");
		finding_set_evidence(fo, "banner \"%s\"", s->banner);
		finding_set_consequence(fo, "%s", cons);
		finding_set_fix(fo, "enable STARTTLS with a valid certificate for %s", host);
		return;
	case SMTP_TLS:
		fo = findings_add(fs, F_MX_TLS_HANDSHAKE, sev, subject);
		finding_set_what(fo, "STARTTLS was accepted but the TLS handshake failed");
		finding_set_evidence(fo, "%s", s->error);
		finding_set_consequence(fo, "%s", cons);
		finding_set_fix(fo, "check the server's TLS settings and certificate files");
		return;
	case SMTP_OK:
		break;
	}
	if (s->tls_version_num < TLS1_2_VERSION) {
		fo = findings_add(fs, F_MX_TLS_VERSION, sev, subject);
		finding_set_what(fo, "negotiated %s, older than TLS 1.2", s->tls_version);
		finding_set_evidence(fo, "RFC 8996 deprecates TLS 1.0 and 1.1; current senders "
				     "refuse it");
		finding_set_consequence(fo, "%s", cons);
		finding_set_fix(fo, "enable TLS 1.2 and 1.3");
	}
	cert_findings(&s->cert, F_MX_CERT_EXPIRED, F_MX_CERT_NAME, F_MX_CERT_UNTRUSTED, sev,
		      subject, cons, now, fs);
}

/* Hosts of the current MX set that a sender holding patterns (n of them) may use. */
static unsigned valid_under(char *const *patterns, size_t n, const struct verdict *v,
			    time_t *until, char *missing, size_t misslen)
{
	unsigned count = 0;
	struct dynbuf sb;

	dynbuf_init(&sb, misslen ? misslen - 1 : 0);
	*until = 0;
	for (size_t i = 0; i < v->n_mx; i++) {
		const struct mx_verdict *m = &v->mx[i];

		if (mx_match_any(patterns, n, m->name) < 0) {
			if (m->n_good)
				dynbuf_printf(&sb, "%s%s", sb.len ? ", " : "", m->name);
			continue;
		}
		if (!m->n_good)
			continue;
		count++;
		if (m->valid_until > *until)
			*until = m->valid_until;
	}
	if (misslen)
		bsnprintf(missing, misslen, "%s", sb.buf ? sb.buf : "");
	dynbuf_free(&sb);
	return count;
}

/* The mode the MX hosts are judged under. */
static enum policy_mode mx_mode(const struct domain_facts *df, const struct verdict *v)
{
	if (!df->probe_policy)
		return POLICY_MODE_ENFORCE;	/* --mx-only: judge the paths as enforce would */
	if (v->under_cache)
		return v->cached.mode;	/* senders with a cached copy enforce it */
	if (!v->policy_usable && v->have_policy && v->policy.valid &&
	    !dns_result_definite(df->sts_txt.rc))
		return v->policy.mode;	/* the TXT lookup failed: senders likely hold this one */
	return v->mode;
}

/* The MX answer as a whole: an error, null MX, none, too many. False: no host to judge. */
static bool mx_set(const struct domain_facts *df, enum policy_mode mode, struct verdict *v)
{
	struct finding_occurrence *fo;

	if (df->mx_rc == DNS_NOT_ASKED)
		return false;
	if (!dns_result_definite(df->mx_rc)) {
		dns_error(&v->findings, df->domain, "MX", df->mx_rc, df->mx_detail,
			  "which hosts receive mail cannot be told");
		return false;
	}
	if (df->mx_null) {
		fo = findings_add(&v->findings, F_MX_NULL, SEV_INFO, df->domain);
		finding_set_what(fo, "null MX: the domain accepts no mail");
		finding_set_evidence(fo, "RFC 7505");
		finding_set_consequence(fo, "MTA-STS protects nothing here");
		finding_set_fix(fo, "remove the MTA-STS records or publish real MX hosts");
		return false;
	}
	if (df->n_mx == 0) {
		fo = findings_add(&v->findings, F_MX_NONE, mode_severity(mode), df->domain);
		finding_set_what(fo, "%s has no MX records", df->domain);
		finding_set_evidence(fo, "%s", dns_result_str(df->mx_rc));
		finding_set_consequence(fo, "senders fall back to the address of the domain itself, "
					"which no MTA-STS policy can cover, so %s",
					mode == POLICY_MODE_ENFORCE ?
					"compliant senders have no valid path" :
					"it would fail under enforce");
		finding_set_fix(fo, "publish MX records");
		return false;
	}
	if (df->mx_truncated) {
		fo = findings_add(&v->findings, F_MX_NOTE, SEV_INFO, df->domain);
		if (df->mx_total > df->n_mx)
			finding_set_what(fo, "%zu MX hosts, more than the %zu this tool probes",
					 df->mx_total, df->n_mx);
		else
			finding_set_what(fo, "more than %d MX hosts", FACTS_MAX_MX);
		finding_set_consequence(fo, "only the first %zu (by preference) were probed: the "
					"valid paths count those", df->n_mx);
	}
	return true;
}

/* Match and TLS state of every host: the valid paths. */
static void mx_paths(const struct domain_facts *df, bool match, struct verdict *v)
{
	const struct policy *mp = verdict_mx_policy(v);

	v->n_mx = df->n_mx;
	v->mx = xcalloc(df->n_mx, sizeof(*v->mx));
	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];
		struct mx_verdict *mv = &v->mx[i];

		strlcpy_s(mv->name, m->name, sizeof(mv->name));
		mv->pattern = match ? mx_match_any(mp->mx, mp->n_mx, m->name) : -1;
		mv->matched = !df->probe_policy || mv->pattern >= 0;
		if (m->pending)
			v->mx_pending++;
		for (size_t a = 0; a < m->n_smtp; a++) {
			if (!addr_good(&m->smtp[a]))
				continue;
			mv->n_good++;
			if (addr_good_until(&m->smtp[a]) > mv->valid_until)
				mv->valid_until = addr_good_until(&m->smtp[a]);
		}
		/* with no mx patterns to match (no policy, mode none) every TLS-good host counts */
		mv->valid = mv->n_good > 0 && (mv->matched || !match);
		if (mv->valid)
			v->valid_paths++;
		if (match && !mv->matched)
			v->unmatched++;
	}
}

/* One host's findings, with severities that know whether a valid path remains. */
static void mx_host(const struct mx_host_facts *m, const struct mx_verdict *mv,
		    enum policy_mode mode, bool match, bool blocked, time_t now, struct verdict *v)
{
	const struct addr_answer *ad = &m->addrs;
	bool partial = !dns_result_definite(ad->rc4) ||
		       (ad->rc6 != DNS_NOT_ASKED && !dns_result_definite(ad->rc6));
	unsigned others = v->valid_paths - (mv->valid ? 1 : 0);
	struct finding_occurrence *fo;

	if (match && !mv->matched && verdict_mx_policy(v))
		judge_mx_unmatched(verdict_mx_policy(v), mode, m->name, &v->findings);
	if (m->pending)
		return;	/* the deadline came first: check.timeout names it, nothing failed */
	/* a host still pending may be a valid path: no failure is the last one then */
	others += v->mx_pending;
	if (ad->n == 0) {
		if (partial) {
			dns_error(&v->findings, m->name, "A/AAAA of the MX",
				  dns_result_definite(ad->rc4) ? ad->rc6 : ad->rc4, ad->detail,
				  "whether this MX can receive mail cannot be told");
			return;
		}
		fo = findings_add(&v->findings, F_MX_UNRESOLVABLE, path_severity(mode, others),
				  m->name);
		finding_set_what(fo, "MX %s has no A or AAAA record", m->name);
		finding_set_consequence(fo, "senders cannot connect to it; %s",
					mode_consequence(mode, others));
		finding_set_fix(fo, "fix the MX record or publish the host's address");
		return;
	}
	if (partial) {
		fo = findings_add(&v->findings, F_DNS_ERROR, SEV_INFO, m->name);
		finding_set_what(fo, "one address family of %s could not be resolved", m->name);
		finding_set_evidence(fo, "%s", ad->detail);
		finding_set_consequence(fo, "only the addresses found were probed");
	}
	/* an address failing beside a good one on the same host is a warning */
	for (size_t a = 0; a < m->n_smtp; a++)
		smtp_findings(m->name, &m->smtp[a], mode,
			      mv->valid ? v->valid_paths + v->mx_pending : others, blocked, now,
			      &v->findings);
}

/*
 * The monitor's own port 25 appears blocked (checks/vantage.c): an MX address whose TCP
 * connection failed says nothing about the domain. One UNKNOWN finding says so; true when
 * no valid path could be seen, so that no failure date is made up.
 */
static bool mx_vantage(const struct domain_facts *df, struct verdict *v)
{
	struct finding_occurrence *fo;
	size_t untried = 0;

	if (!df->vantage_smtp_blocked)
		return false;
	for (size_t i = 0; i < df->n_mx; i++)
		for (size_t a = 0; a < df->mx[i].n_smtp; a++) {
			const struct smtp_facts *s = &df->mx[i].smtp[a];

			untried += (s->rc == SMTP_CONNECT || s->rc == SMTP_TIMEOUT) &&
				   s->stage == SMTP_STAGE_CONNECT;
		}
	if (!untried)
		return false;
	fo = findings_add(&v->findings, F_CHECK_VANTAGE, SEV_UNKNOWN, df->domain);
	finding_set_what(fo, "%zu MX address%s could not be reached from this monitor", untried,
			 untried == 1 ? "" : "es");
	finding_set_evidence(fo, "%s", df->vantage_why);
	finding_set_consequence(fo, "that is the monitor's own network, not the domain's "
				"fault: whether senders can deliver is not known from here");
	finding_set_fix(fo, "let this host connect out to port 25 (cloud providers often block "
			"it), or run stswatch where it can");
	return v->valid_paths == 0;
}

/*
 * fails_at under the policy the MX hosts are judged by: now without a valid path, else the
 * last one's end; under a cached policy only when that comes before the senders drop it.
 */
static void mx_fails_at(enum policy_mode mode, time_t now, struct verdict *v)
{
	time_t last = 0;

	if (mode != POLICY_MODE_ENFORCE || v->mx_pending)
		return;	/* a host the deadline left unprobed may hold a path: not known */
	for (size_t i = 0; i < v->n_mx; i++)
		if (v->mx[i].valid && v->mx[i].valid_until > last)
			last = v->mx[i].valid_until;
	if (!v->valid_paths) {
		v->fails_at = now;
		if (v->under_cache)
			bsnprintf(v->fails_why, sizeof(v->fails_why), "no MX host gives a valid path "
				  "under the cached policy (id %s) senders keep enforcing",
				  v->cached_id);
		else
			bsnprintf(v->fails_why, sizeof(v->fails_why),
				  "no MX host gives a valid path under the current policy");
	} else if (!v->under_cache || last < v->protection_ends) {
		v->fails_at = last;
		bsnprintf(v->fails_why, sizeof(v->fails_why), v->under_cache ?
			  "the last valid MX certificate expires while senders hold the cached "
			  "policy" : "the last valid MX certificate expires");
	}
}

/* Expiry of the certificates on good addresses: critical when it ends the last path. */
static void mx_cert_expiry(const struct judge_opts *o, const struct domain_facts *df,
			   const struct history *h, enum policy_mode mode, time_t now,
			   struct verdict *v)
{
	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];

		for (size_t a = 0; a < m->n_smtp; a++) {
			const struct smtp_facts *s = &m->smtp[a];
			time_t end = addr_good_until(s);
			bool last_path;
			char subject[HOST_LEN + IP_STR_LEN + 4];

			if (!addr_good(s))
				continue;
			if (!v->mx_cert_not_after || end < v->mx_cert_not_after)
				v->mx_cert_not_after = end;
			last_path = mode == POLICY_MODE_ENFORCE && v->mx[i].valid && !v->mx_pending &&
				    end >= v->fails_at && (!v->under_cache || end < v->protection_ends);
			bsnprintf(subject, sizeof(subject), "%s[%s]", m->name, s->ip);
			cert_expiry(o, h, subject, &s->cert, end, now, last_path, F_MX_CERT_EXPIRING,
				    last_path ? "it is the last valid path: compliant senders stop "
				    "delivering then" : mode == POLICY_MODE_ENFORCE ?
				    "this path fails then, others remain" :
				    "this path would then fail under enforce", &v->findings);
		}
	}
}

static void judge_mx(const struct judge_opts *o, const struct domain_facts *df,
		     const struct history *h, time_t now, struct verdict *v)
{
	enum policy_mode mode = mx_mode(df, v);
	const struct policy *mp = verdict_mx_policy(v);
	bool match = mp && mp->n_mx > 0;

	if (!mx_set(df, mode, v))
		return;
	mx_paths(df, match, v);
	for (size_t i = 0; i < df->n_mx; i++)
		mx_host(&df->mx[i], &v->mx[i], mode, match, df->vantage_smtp_blocked, now, v);
	if (mx_vantage(df, v))
		return;	/* no path could be tried from here: no failure date either */
	mx_fails_at(mode, now, v);
	mx_cert_expiry(o, df, h, mode, now, v);
}

/* ---- history: ids, cached policies, changes ------------------------------------------ */

static bool version_is_current(const struct policy_version *pv, const struct verdict *v)
{
	return v->have_policy && strcmp(pv->sha256, v->policy_sha256) == 0 &&
	       strcmp(pv->txt_id, v->txt.id) == 0;
}

static void history_id_changed(const struct history *h, const char *subject, struct verdict *v)
{
	struct finding_occurrence *fo;

	if (!v->txt.valid || !h->txt_id[0] || strcmp(h->txt_id, v->txt.id) == 0)
		return;
	fo = findings_add(&v->findings, F_STS_ID_CHANGED, SEV_INFO, subject);
	finding_set_what(fo, "policy id changed from %s to %s", h->txt_id, v->txt.id);
	finding_set_consequence(fo, "senders fetch the policy again");
}

/* Two pattern lists with the same patterns, in any order (names compared as in 4.1). */
static bool same_mx_set(char *const *a, size_t na, char *const *b, size_t nb)
{
	for (int pass = 0; pass < 2; pass++) {
		char *const *x = pass ? b : a, *const *y = pass ? a : b;
		size_t nx = pass ? nb : na, ny = pass ? na : nb;

		for (size_t i = 0; i < nx; i++) {
			size_t lx = strlen(x[i]) - (x[i][0] && x[i][strlen(x[i]) - 1] == '.');
			bool found = false;

			for (size_t k = 0; k < ny && !found; k++) {
				size_t ly = strlen(y[k]) - (y[k][0] && y[k][strlen(y[k]) - 1] == '.');

				found = lx == ly && strncasecmp(x[i], y[k], lx) == 0;
			}
			if (!found)
				return false;
		}
	}
	return true;
}

/*
 * Does the version mean what the current policy means to a sender: the same mode, max_age
 * and mx set? Then a sender holding it behaves the same, whatever its bytes (lines
 * reordered, line endings changed, a comment added).
 */
static bool same_meaning(const struct policy_version *pv, const struct verdict *v)
{
	return v->have_policy && v->policy.valid && pv->mode == v->policy.mode &&
	       pv->max_age == v->policy.max_age &&
	       same_mx_set(pv->mx, pv->n_mx, v->policy.mx, v->policy.n_mx);
}

/* The body changed under the same id, its meaning did not: a note, not sts.id.stale. */
static void history_body_rewritten(const struct policy_version *pv, const char *subject,
				   struct verdict *v)
{
	struct finding_occurrence *fo = findings_add(&v->findings, F_POLICY_NOTE, SEV_INFO,
						     subject);

	finding_set_what(fo, "the policy body changed under id %s, its meaning did not",
			 v->txt.id);
	finding_set_evidence(fo, "sha256 %.12s -> %.12s; the same mode %s, max_age %ld and %zu mx "
			     "pattern%s", pv->sha256, v->policy_sha256, policy_mode_str(pv->mode),
			     pv->max_age, pv->n_mx, pv->n_mx == 1 ? "" : "s");
	finding_set_consequence(fo, "senders holding the old body behave as with the new one");
	finding_set_fix(fo, "bump the id with the next change that matters");
}

/*
 * The current id served another body before, and a sender may still hold it: stale when
 * that body is the one the id replaced, reused when another id came in between. A body
 * that means the same (same_meaning) is neither, only a note.
 */
static void history_id_reuse(const struct history *h, time_t now, const char *subject,
			     struct verdict *v)
{
	const struct policy_version *stale = NULL, *reused = NULL, *rewritten = NULL;
	struct finding_occurrence *fo;
	char when[80], seen[32];

	if (!v->txt.valid || !v->have_policy)
		return;
	for (size_t i = 0; i < h->n_versions; i++) {
		const struct policy_version *pv = &h->versions[i];

		/* once no sender can hold the old body, the id no longer matters */
		if (strcmp(pv->txt_id, v->txt.id) != 0 || strcmp(pv->sha256, v->policy_sha256) == 0 ||
		    held_until(pv, v, now) <= now)
			continue;
		if (same_meaning(pv, v)) {
			if (!rewritten)
				rewritten = pv;
			continue;
		}
		/* was another id published after this version? then the id came back */
		for (size_t k = 0; k < h->n_versions; k++)
			if (strcmp(h->versions[k].txt_id, v->txt.id) != 0 &&
			    h->versions[k].first_seen > pv->last_seen)
				reused = pv;
		if (!reused && !stale)
			stale = pv;
	}
	if (reused) {
		fo = findings_add(&v->findings, F_STS_ID_REUSED, SEV_WARNING, subject);
		finding_set_what(fo, "id %s was used before for another policy body", v->txt.id);
		finding_set_evidence(fo, "seen %s", iso_str(reused->first_seen, seen, sizeof(seen)));
		finding_set_consequence(fo, "a sender that still caches that body under this id "
					"never refetches");
		finding_set_fix(fo, "use a new id for every change (a timestamp works)");
	} else if (stale) {
		fo = findings_add(&v->findings, F_STS_ID_STALE, SEV_WARNING, subject);
		finding_set_what(fo, "the policy body changed but the id stayed %s", v->txt.id);
		finding_set_evidence(fo, "sha256 %.12s -> %.12s", stale->sha256, v->policy_sha256);
		finding_set_consequence(fo, "senders holding the old policy do not refetch it until "
					"its max_age runs out (%s)",
					when_str(held_until(stale, v, now), now, when, sizeof(when)));
		finding_set_fix(fo, "bump the id whenever the policy changes");
	} else if (rewritten) {
		history_body_rewritten(rewritten, subject, v);
	}
}

static bool name_in(const char *name, char *const *list, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(list[k], name) == 0)
			return true;
	return false;
}

static void history_mx_changed(const struct domain_facts *df, const struct history *h,
			       struct verdict *v)
{
	struct finding_occurrence *fo;
	struct dynbuf added, removed;
	char since[32];

	if (df->mx_rc != DNS_OK || !h->n_mx || df->mx_null)
		return;
	dynbuf_init(&added, 1024);
	dynbuf_init(&removed, 1024);
	for (size_t i = 0; i < df->n_mx; i++)
		if (!name_in(df->mx[i].name, h->mx, h->n_mx))
			dynbuf_printf(&added, "%s%s", added.len ? ", " : "", df->mx[i].name);
	for (size_t k = 0; k < h->n_mx; k++) {
		bool seen = false;

		for (size_t i = 0; i < df->n_mx; i++)
			seen |= strcmp(h->mx[k], df->mx[i].name) == 0;
		if (!seen)
			dynbuf_printf(&removed, "%s%s", removed.len ? ", " : "", h->mx[k]);
	}
	if (added.len || removed.len) {
		fo = findings_add(&v->findings, F_MX_CHANGED, SEV_INFO, df->domain);
		finding_set_what(fo, "MX set changed since %s",
				 iso_str(h->last_checked, since, sizeof(since)));
		finding_set_evidence(fo, "added %s; removed %s", added.len ? added.buf : "none",
				     removed.len ? removed.buf : "none");
	}
	dynbuf_free(&added);
	dynbuf_free(&removed);
}

static void history_certs_renewed(const struct domain_facts *df, const struct history *h,
				  struct verdict *v)
{
	for (size_t i = 0; i < df->n_mx; i++)
		for (size_t a = 0; a < df->mx[i].n_smtp; a++) {
			const struct smtp_facts *s = &df->mx[i].smtp[a];
			char subj[HOST_LEN + IP_STR_LEN + 4];

			bsnprintf(subj, sizeof(subj), "%s[%s]", df->mx[i].name, s->ip);
			cert_renewed(h, F_MX_CERT_RENEWED, subj, &s->cert, &v->findings);
		}
}

/* A cached enforce policy that covers none of the working MX hosts: mail fails now. */
static void cached_policy_blocks(const struct policy_version *pv, bool same_id,
				 const char *missing, const char *domain, time_t now,
				 struct verdict *v)
{
	struct finding_occurrence *fo;
	char when[80], first[32];

	fo = findings_add(&v->findings, F_CACHE_STALE_POLICY, SEV_CRITICAL, domain);
	finding_set_what(fo, "senders that cached the enforce policy served under id %s keep it "
			 "until %s, and it covers none of the working MX hosts", pv->txt_id,
			 when_str(held_until(pv, v, now), now, when, sizeof(when)));
	finding_set_evidence(fo, "sha256 %.12s, first seen %s; %s; working MX hosts: %s",
			     pv->sha256, iso_str(pv->first_seen, first, sizeof(first)),
			     same_id ? "they keep it because the id did not change" :
			     "they keep it because the new policy cannot be used",
			     missing[0] ? missing : "none");
	finding_set_consequence(fo, "their mail to the domain fails now");
	finding_set_fix(fo, "%s", same_id ?
			"put the old MX hosts back until then, and bump the id now" :
			"fix the policy host and keep the old MX hosts until then");
	if (!v->fails_at || now < v->fails_at) {
		v->fails_at = now;
		bsnprintf(v->fails_why, sizeof(v->fails_why),
			  "a cached policy (id %s) covers no working MX host", pv->txt_id);
	}
}

/* A cached policy that leaves some MX hosts out: those senders use the rest. */
static void cached_policy_narrows(const struct policy_version *pv, const char *missing,
				  unsigned n, time_t until, const char *domain, time_t now,
				  struct verdict *v)
{
	struct finding_occurrence *fo;
	time_t hold = held_until(pv, v, now);
	char when[80];

	if (missing[0]) {
		fo = findings_add(&v->findings, F_CACHE_STALE_POLICY, SEV_WARNING, domain);
		finding_set_what(fo, "senders that cached the policy served under id %s do not "
				 "accept MX %s", pv->txt_id, missing);
		finding_set_evidence(fo, "they hold it until %s",
				     when_str(hold, now, when, sizeof(when)));
		finding_set_consequence(fo, "they still deliver to the %u host%s it covers", n,
					n == 1 ? "" : "s");
		finding_set_fix(fo, "bump the id so they refetch");
	}
	if (until < hold && (!v->fails_at || until < v->fails_at)) {
		v->fails_at = until;
		bsnprintf(v->fails_why, sizeof(v->fails_why),
			  "the last MX certificate valid under a cached policy (id %s) expires",
			  pv->txt_id);
	}
}

/*
 * Cached policies (RFC 8461 3.3, 5.1): a sender holds a version until held_until, and
 * replaces it early only when it sees a new id and can fetch the new policy. Judge the
 * current MX set under every enforce version still held.
 */
static void history_cached_policies(const struct domain_facts *df, const struct history *h,
				    time_t now, struct verdict *v)
{
	if (df->mx_rc != DNS_OK || df->mx_null || !v->n_mx || v->mx_pending)
		return;	/* with hosts left unprobed, what a cached policy leaves is not known */
	for (size_t i = 0; i < h->n_versions; i++) {
		const struct policy_version *pv = &h->versions[i];
		bool same_id = v->txt.valid && strcmp(pv->txt_id, v->txt.id) == 0;
		char missing[512];
		time_t until;
		unsigned n;

		if (version_is_current(pv, v) || pv->mode != POLICY_MODE_ENFORCE ||
		    held_until(pv, v, now) <= now)
			continue;
		if (v->under_cache && i == 0)
			continue;	/* the MX hosts were judged under it already */
		if (v->policy_usable && strcmp(pv->sha256, v->policy_sha256) == 0)
			continue;	/* same body as what new senders get */
		if (!same_id && v->policy_usable)
			continue;	/* a new id and a usable policy: senders replace it */
		n = valid_under(pv->mx, pv->n_mx, v, &until, missing, sizeof(missing));
		if (n == 0)
			cached_policy_blocks(pv, same_id, missing, df->domain, now, v);
		else
			cached_policy_narrows(pv, missing, n, until, df->domain, now, v);
	}
}

static void judge_history(const struct domain_facts *df, const struct history *h, time_t now,
			  struct verdict *v)
{
	char subject[HOST_LEN + 16];

	if (!h->known)
		return;
	bsnprintf(subject, sizeof(subject), "_mta-sts.%s", df->domain);
	history_id_changed(h, subject, v);
	history_id_reuse(h, now, subject, v);
	history_mx_changed(df, h, v);
	history_certs_renewed(df, h, v);
	history_cached_policies(df, h, now, v);
}

/* ---- the whole domain ---------------------------------------------------------------- */

int judge_domain(const struct judge_opts *o, const struct domain_facts *df,
		 const struct history *h, time_t now, struct verdict *out)
{
	static const struct history none;
	struct finding_occurrence *fo;

	memset(out, 0, sizeof(*out));
	judge_findings_init(o, &out->findings);
	if (!h)
		h = &none;
	if (df->deadline_hit) {
		/* the severity our own deadline stands for: UNKNOWN, or --timeout-result */
		fo = findings_add(&out->findings, F_CHECK_TIMEOUT, o->timeout_sev, df->domain);
		finding_set_what(fo, "the check did not finish before its deadline");
		finding_set_evidence(fo, "still pending: %s", df->pending[0] ? df->pending : "unknown");
		finding_set_consequence(fo, "the verdict covers only what was answered");
		finding_set_fix(fo, "give the check more time, or look into the pending step");
	}
	if (df->mx_rc == DNS_NXDOMAIN) {
		/* every other name of the domain is then NXDOMAIN too: one finding says it */
		fo = findings_add(&out->findings, F_DNS_NXDOMAIN, SEV_CRITICAL, df->domain);
		finding_set_what(fo, "%s does not exist in DNS", df->domain);
		finding_set_evidence(fo, "NXDOMAIN for its MX query");
		finding_set_consequence(fo, "no mail can be sent to it, with or without MTA-STS");
		finding_set_fix(fo, "check the spelling in the watch list, the registration and the "
				"delegation of the domain");
		goto out;
	}
	if (df->vantage_dns_blind) {
		fo = findings_add(&out->findings, F_CHECK_VANTAGE, SEV_UNKNOWN, df->domain);
		finding_set_what(fo, "this monitor's resolver does not answer");
		finding_set_evidence(fo, "%s", df->vantage_why);
		finding_set_consequence(fo, "the DNS answers the verdict needs are missing because of "
					"the monitor, not the domain");
		finding_set_fix(fo, "fix the resolver stswatch uses (resolver = in stswatch.conf)");
	}
	judge_txt(df, h, now, out);
	judge_tlsrpt(o, df, out);
	judge_policy(o, df, h, now, out);
	judge_cache(df, h, now, out);
	judge_mx(o, df, h, now, out);
	judge_history(df, h, now, out);
out:
	findings_sort(&out->findings);
	out->status = findings_status(&out->findings);
	return 0;
}

void verdict_free(struct verdict *v)
{
	policy_free(&v->policy);
	policy_free(&v->cached);
	tlsrpt_free(&v->tlsrpt);
	free(v->mx);
	findings_free(&v->findings);
	memset(v, 0, sizeof(*v));
}

void history_free(struct history *h)
{
	for (size_t i = 0; i < h->n_versions; i++) {
		for (size_t k = 0; k < h->versions[i].n_mx; k++)
			free(h->versions[i].mx[k]);
		free(h->versions[i].mx);
	}
	free(h->versions);
	for (size_t i = 0; i < h->n_mx; i++)
		free(h->mx[i]);
	free(h->mx);
	free(h->certs);
	memset(h, 0, sizeof(*h));
}
