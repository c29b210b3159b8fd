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

#include "mx_match.h"
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

/* "in 5 days (2026-12-03T10:00:00Z)", "3 days ago (...)", "in 7 hours (...)" */
static const char *when_str(time_t t, time_t now, char *buf, size_t len)
{
	char iso[32];
	double d = difftime(t, now);
	double ad = d < 0 ? -d : d;

	time_rfc3339(t, iso, sizeof(iso));
	if (ad < 2 * DAY)
		bsnprintf(buf, len, "%s %.0f hours%s (%s)", d < 0 ? "" : "in", ad / 3600,
			  d < 0 ? " ago" : "", iso);
	else
		bsnprintf(buf, len, "%s %.0f days%s (%s)", d < 0 ? "" : "in", ad / DAY,
			  d < 0 ? " ago" : "", iso);
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}

static bool txt_definitely_absent(enum dns_result rc)
{
	return rc == DNS_NXDOMAIN || rc == DNS_NODATA;
}

static void dns_error(struct findings *fs, const char *subject, const char *what,
		      enum dns_result rc, const char *detail, const char *consequence)
{
	findings_add(fs, F_DNS_ERROR, SEV_UNKNOWN, subject,
		     "DNS lookup of %s failed (%s); %s; check the name servers of the zone and "
		     "DNSSEC, or the resolver stswatch uses",
		     what, detail && detail[0] ? detail : dns_result_str(rc), consequence);
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

static void judge_txt(const struct domain_facts *df, const struct history *h, time_t now,
		      struct verdict *v)
{
	const struct txt_answer *ta = &df->sts_txt;
	char subject[HOST_LEN + 16], when[80];

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
	if (ta->truncated)
		findings_add(&v->findings, F_STS_TXT_NOTE, SEV_INFO, subject,
			     "more than %d TXT records or an oversized record at %s; only the first "
			     "%d were read", FACTS_MAX_TXT, subject, FACTS_MAX_TXT);
	if (!v->txt.valid && h->known && h->txt_id[0] && txt_definitely_absent(ta->rc)) {
		const struct policy_version *last = h->n_versions ? &h->versions[0] : NULL;
		time_t until = last ? (last->replaced_at ? last->replaced_at : now) + last->max_age : 0;

		findings_add(&v->findings, F_STS_TXT_REMOVED, SEV_WARNING, subject,
			     "the TXT record (id %s) was last seen %s and is gone: senders that "
			     "cached the %s policy keep applying it until %s, new senders see no "
			     "MTA-STS; to retire MTA-STS publish \"mode: none\" under a new id first "
			     "and remove the record after max_age (RFC 8461 8.3)",
			     h->txt_id, when_str(h->txt_last_seen, now, when, sizeof(when)),
			     last ? policy_mode_str(last->mode) : "cached",
			     last ? time_rfc3339(until, (char[32]){ 0 }, 32) : "its max_age");
	}
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

/* ---- the policy --------------------------------------------------------------------- */

static void cert_findings(const struct judge_opts *o, const struct cert_facts *cf,
			  enum finding_code c_expired, enum finding_code c_name,
			  enum finding_code c_untrusted, enum severity sev, const char *subject,
			  const char *consequence, time_t now, struct findings *fs)
{
	char when[80], why[512];

	(void)o;
	if (cf->problems & CERT_P_EXPIRED)
		findings_add(fs, c_expired, sev, subject,
			     "certificate (issuer %s) expired %s; %s; renew it and check the renewal "
			     "job", cf->issuer, when_str(cf->not_after, now, when, sizeof(when)),
			     consequence);
	if (cf->problems & CERT_P_NAME_MISMATCH)
		findings_add(fs, c_name, sev, subject,
			     "certificate names %s, not %s (RFC 8461 4.2 wants a DNS-ID for the host); "
			     "%s; get a certificate with %s in its subject alternative names",
			     cf->sans[0] ? cf->sans : "no DNS name at all", cf->expected_name,
			     consequence, cf->expected_name);
	if (cf->problems & CERT_P_UNTRUSTED) {
		unsigned rest = cf->problems & CERT_P_UNTRUSTED;
		struct cert_facts only = *cf;

		only.problems = rest;
		cert_problems_str(&only, why, sizeof(why));
		findings_add(fs, c_untrusted, sev, subject,
			     "certificate is not trusted: %s; %s; %s", why, consequence,
			     rest & CERT_P_MISSING_INTERMEDIATE ?
			     "configure the server to send the intermediate certificate(s) with its own" :
			     rest & CERT_P_SELF_SIGNED ?
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

static void judge_policy(const struct judge_opts *o, const struct domain_facts *df,
			 const struct history *h, time_t now, struct verdict *v)
{
	const struct policy_fetch *pf = &df->fetch;
	char host[HOST_LEN + 16], when[80];
	const char *url = pf->url[0] ? pf->url : "the policy URL";
	bool txt_absent = !v->txt.valid && txt_definitely_absent(df->sts_txt.rc);
	const char *cons = "senders cannot fetch the policy, so new senders apply no MTA-STS and "
			   "senders with a cached copy keep it until it expires";

	bsnprintf(host, sizeof(host), "mta-sts.%s", df->domain);
	switch (pf->rc) {
	case FETCH_NOT_ASKED:
		return;
	case FETCH_LOCAL:
		/* our own shortage says nothing about the domain: could not tell */
		findings_add(&v->findings, F_CHECK_RESOURCES, SEV_UNKNOWN, host,
			     "%s was not fetched: %s; that is a limit of this monitor, not a fault "
			     "of the domain, so whether senders can fetch the policy is not known; "
			     "raise stswatch's open-files limit (LimitNOFILE=) or lower its "
			     "concurrency", url, pf->error);
		return;
	case FETCH_DNS:
		if (!dns_result_definite(df->policy_addrs.rc4) ||
		    (df->policy_addrs.rc6 != DNS_NOT_ASKED && !dns_result_definite(df->policy_addrs.rc6))) {
			enum dns_result bad = dns_result_definite(df->policy_addrs.rc4) ?
					      df->policy_addrs.rc6 : df->policy_addrs.rc4;

			dns_error(&v->findings, host, "A/AAAA mta-sts", bad, df->policy_addrs.detail,
				  "whether the policy host exists cannot be told");
			return;
		}
		if (txt_absent)
			return;	/* no MTA-STS at all: sts.txt.missing says it */
		findings_add(&v->findings, F_POLICY_FETCH, SEV_CRITICAL, host,
			     "%s has no A or AAAA record, so %s cannot be fetched; %s; publish an "
			     "address for %s that serves the policy over HTTPS", host, url, cons, host);
		return;
	case FETCH_CONNECT:
	case FETCH_TIMEOUT:
	case FETCH_TLS:
	case FETCH_PROTOCOL:
		findings_add(&v->findings, F_POLICY_FETCH, SEV_CRITICAL, host,
			     "fetching %s failed (%s%s%s: %s); %s; make %s answer HTTPS on port 443",
			     url, fetch_result_str(pf->rc), pf->ip[0] ? " at " : "", pf->ip, pf->error,
			     cons, host);
		break;
	case FETCH_CERT:
		if (!pf->cert.problems)
			findings_add(&v->findings, F_POLICY_CERT_UNTRUSTED, SEV_CRITICAL, host,
				     "certificate rejected while fetching %s: %s; %s", url, pf->error,
				     cons);
		break;
	case FETCH_TOO_LARGE:
		findings_add(&v->findings, F_POLICY_TOO_LARGE, SEV_CRITICAL, host,
			     "%s is larger than %d bytes (RFC 8461 3.3 lets senders stop reading at "
			     "64 KiB); senders treat it as no policy; serve the plain policy file only",
			     url, POLICY_MAX_BODY);
		break;
	case FETCH_OK:
		break;
	}

	/* The certificate of the policy host, whenever one was seen. */
	if (pf->cert.present) {
		v->policy_cert_not_after = pf->cert.not_after;
		cert_findings(o, &pf->cert, F_POLICY_CERT_EXPIRED, F_POLICY_CERT_NAME,
			      F_POLICY_CERT_UNTRUSTED, SEV_CRITICAL, host, cons, now, &v->findings);
		if (!pf->cert.problems) {
			enum severity sev = expiry_severity(o, &pf->cert, now, true);

			if (sev != SEV_INFO)
				findings_add(&v->findings, F_POLICY_CERT_EXPIRING, sev, host,
					     "certificate (issuer %s) expires %s; after that %s; renew "
					     "it now and check the renewal job", pf->cert.issuer,
					     when_str(pf->cert.not_after, now, when, sizeof(when)), cons);
		}
		for (size_t i = 0; i < h->n_certs; i++) {
			const struct cert_seen *cs = &h->certs[i];

			if (strcmp(cs->subject, host) == 0 && cs->sha256[0] &&
			    strcmp(cs->sha256, pf->cert.sha256) != 0 && pf->cert.not_after > cs->not_after)
				findings_add(&v->findings, F_POLICY_CERT_RENEWED, SEV_INFO, host,
					     "certificate renewed: notAfter %s -> %s",
					     time_rfc3339(cs->not_after, (char[32]){ 0 }, 32),
					     time_rfc3339(pf->cert.not_after, (char[32]){ 0 }, 32));
		}
	}
	if (pf->rc != FETCH_OK)
		goto gone;

	if (pf->http_status >= 300 && pf->http_status < 400) {
		findings_add(&v->findings, F_POLICY_REDIRECT, SEV_CRITICAL, host,
			     "%s answers HTTP %ld redirecting to %s; senders do not follow redirects "
			     "(RFC 8461 3.3), so they get no policy; serve the file directly with "
			     "status 200", url, pf->http_status, pf->location[0] ? pf->location : "(no Location)");
		goto gone;
	}
	if (pf->http_status != 200) {
		findings_add(&v->findings, F_POLICY_HTTP_STATUS, SEV_CRITICAL, host,
			     "%s answers HTTP %ld, not 200 (RFC 8461 3.3); senders treat that as no "
			     "policy; serve /.well-known/mta-sts.txt with status 200", url,
			     pf->http_status);
		goto gone;
	}
	if (!content_type_ok(pf->content_type)) {
		findings_add(&v->findings, F_POLICY_CONTENT_TYPE, SEV_CRITICAL, host,
			     "%s is served as \"%s\", not text/plain (RFC 8461 3.3); senders that "
			     "check the media type reject it (a CMS or error page often answers here); "
			     "serve it with Content-Type: text/plain",
			     url, pf->content_type[0] ? pf->content_type : "(no Content-Type)");
	}
	if (pf->total_ms > o->slow_ms)
		findings_add(&v->findings, F_POLICY_SLOW, SEV_WARNING, host,
			     "fetching %s took %.1f s (threshold %.1f s); senders give up after about a "
			     "minute and some much sooner; make the policy host answer faster",
			     url, pf->total_ms / 1000.0, o->slow_ms / 1000.0);

	v->have_policy = true;
	sha256_hex(pf->body ? pf->body : "", pf->body_len, v->policy_sha256);
	policy_parse(pf->body ? pf->body : "", pf->body_len, &v->policy, &v->findings, url);
	v->policy_usable = v->policy.valid && content_type_ok(pf->content_type) && v->txt.valid;
	if (v->policy_usable)
		v->mode = v->policy.mode;
	if (v->policy.valid && txt_absent)
		findings_add(&v->findings, F_POLICY_NOTE, SEV_INFO, host,
			     "a valid %s policy is served at %s, but without a TXT record at "
			     "_mta-sts.%s senders never fetch it", policy_mode_str(v->policy.mode), url,
			     df->domain);
	return;
gone:
	if (h->policy_served)
		findings_add(&v->findings, F_POLICY_GONE, SEV_WARNING, host,
			     "%s served a valid policy until %s and no longer does; senders that "
			     "cached it keep it until it expires, new senders get none",
			     url, when_str(h->policy_last_served, now, when, sizeof(when)));
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

static void smtp_findings(const struct judge_opts *o, const char *host, const struct smtp_facts *s,
			  enum policy_mode mode, unsigned valid_paths, time_t now,
			  struct findings *fs)
{
	char subject[HOST_LEN + IP_STR_LEN + 4];
	enum severity sev = path_severity(mode, valid_paths);
	const char *cons = mode_consequence(mode, valid_paths);

	bsnprintf(subject, sizeof(subject), "%s[%s]", host, s->ip);
	switch (s->rc) {
	case SMTP_NOT_ASKED:
	case SMTP_SKIPPED:
		return;
	case SMTP_LOCAL:
		findings_add(fs, F_CHECK_RESOURCES, SEV_UNKNOWN, subject,
			     "STARTTLS was not tried: %s; that is a limit of this monitor, not a "
			     "fault of the MX, so whether senders can deliver here is not known; "
			     "raise stswatch's open-files limit (LimitNOFILE=) or lower its "
			     "concurrency", s->error);
		return;
	case SMTP_CONNECT:
	case SMTP_TIMEOUT:
	case SMTP_REJECTED:
	case SMTP_PROTOCOL:
		findings_add(fs, F_MX_CONNECT, sev, subject,
			     "SMTP on port 25 failed at %s: %s; %s; make the MX answer SMTP here",
			     smtp_stage_str(s->stage), s->error, cons);
		return;
	case SMTP_NO_STARTTLS:
		findings_add(fs, F_MX_STARTTLS_MISSING, sev, subject,
			     "the EHLO reply does not offer STARTTLS (banner \"%s\"); %s; enable "
			     "STARTTLS with a valid certificate for %s", s->banner, cons, host);
		return;
	case SMTP_TLS:
		findings_add(fs, F_MX_TLS_HANDSHAKE, sev, subject,
			     "STARTTLS was accepted but %s; %s; check the server's TLS settings and "
			     "certificate files", s->error, cons);
		return;
	case SMTP_OK:
		break;
	}
	if (s->tls_version_num < TLS1_2_VERSION)
		findings_add(fs, F_MX_TLS_VERSION, sev, subject,
			     "negotiated %s, older than TLS 1.2 (RFC 8996 deprecates TLS 1.0 and 1.1; "
			     "current senders refuse it); %s; enable TLS 1.2 and 1.3", s->tls_version,
			     cons);
	cert_findings(o, &s->cert, F_MX_CERT_EXPIRED, F_MX_CERT_NAME, F_MX_CERT_UNTRUSTED, sev,
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

static void judge_mx(const struct judge_opts *o, const struct domain_facts *df, time_t now,
		     struct verdict *v)
{
	enum policy_mode mode = v->mode;
	bool match = v->have_policy && v->policy.n_mx > 0;
	char when[80];

	if (!df->probe_policy)
		mode = POLICY_MODE_ENFORCE;	/* --mx-only: judge the paths as enforce would */
	else if (!v->policy_usable && v->have_policy && v->policy.valid &&
		 !dns_result_definite(df->sts_txt.rc))
		mode = v->policy.mode;	/* the TXT lookup failed: senders likely hold this one */
	if (df->mx_rc == DNS_NOT_ASKED)
		return;
	if (!dns_result_definite(df->mx_rc)) {
		dns_error(&v->findings, df->domain, "MX", df->mx_rc, df->mx_detail,
			  "which hosts receive mail cannot be told");
		return;
	}
	if (df->mx_null) {
		findings_add(&v->findings, F_MX_NULL, SEV_INFO, df->domain,
			     "null MX (RFC 7505): the domain accepts no mail, so MTA-STS protects "
			     "nothing here; remove the MTA-STS records or publish real MX hosts");
		return;
	}
	if (df->n_mx == 0) {
		enum severity sev = mode == POLICY_MODE_ENFORCE ? SEV_CRITICAL :
				    mode == POLICY_MODE_TESTING ? SEV_WARNING : SEV_INFO;

		findings_add(&v->findings, F_MX_NONE, sev, df->domain,
			     "%s has no MX records (%s); senders fall back to the address of the "
			     "domain itself, which no MTA-STS policy can cover, so %s; publish MX "
			     "records", df->domain, dns_result_str(df->mx_rc),
			     mode == POLICY_MODE_ENFORCE ? "compliant senders have no valid path" :
			     "it would fail under enforce");
		return;
	}
	if (df->mx_truncated)
		findings_add(&v->findings, F_MX_NOTE, SEV_INFO, df->domain,
			     "more than %d MX hosts; only the first %d (by preference) were probed",
			     FACTS_MAX_MX, FACTS_MAX_MX);

	/* First pass: match and TLS state of every host. */
	v->n_mx = df->n_mx;
	v->mx = xcalloc(df->n_mx, sizeof(*v->mx));
	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];
		struct mx_verdict *mv = &v->mx[i];

		strlcpy_s(mv->name, m->name, sizeof(mv->name));
		mv->pattern = match ? mx_match_any(v->policy.mx, v->policy.n_mx, m->name) : -1;
		mv->matched = !df->probe_policy || mv->pattern >= 0;
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

	/* Second pass: findings, with severities that know whether a valid path remains. */
	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];
		struct mx_verdict *mv = &v->mx[i];
		unsigned others = v->valid_paths - (mv->valid ? 1 : 0);

		if (match && !mv->matched && v->have_policy) {
			char why[256] = "", best[400] = "";

			for (size_t p = 0; p < v->policy.n_mx; p++) {
				mx_pattern_match(v->policy.mx[p], m->name, why, sizeof(why));
				if (p == 0 || strstr(why, "wildcard"))
					bsnprintf(best, sizeof(best), "%s", why);
			}
			findings_add(&v->findings, F_MX_UNMATCHED,
				     mode == POLICY_MODE_ENFORCE ? SEV_CRITICAL :
				     mode == POLICY_MODE_TESTING ? SEV_WARNING : SEV_INFO, m->name,
				     "MX %s is not covered by any policy mx pattern (%zu pattern%s; %s); "
				     "compliant senders %s it; add \"mx: %s\" to the policy and bump the id",
				     m->name, v->policy.n_mx, v->policy.n_mx == 1 ? "" : "s", best,
				     mode == POLICY_MODE_ENFORCE ? "refuse to deliver to" :
				     "would refuse under enforce to deliver to", m->name);
		}
		if (m->addrs.n == 0) {
			if (!dns_result_definite(m->addrs.rc4) ||
			    (m->addrs.rc6 != DNS_NOT_ASKED && !dns_result_definite(m->addrs.rc6)))
				dns_error(&v->findings, m->name, "A/AAAA of the MX",
					  dns_result_definite(m->addrs.rc4) ? m->addrs.rc6 : m->addrs.rc4,
					  m->addrs.detail, "whether this MX can receive mail cannot be told");
			else
				findings_add(&v->findings, F_MX_UNRESOLVABLE,
					     path_severity(mode, others), m->name,
					     "MX %s has no A or AAAA record; senders cannot connect to it; "
					     "%s; fix the MX record or publish the host's address", m->name,
					     mode_consequence(mode, others));
			continue;
		}
		if (!dns_result_definite(m->addrs.rc4) ||
		    (m->addrs.rc6 != DNS_NOT_ASKED && !dns_result_definite(m->addrs.rc6)))
			findings_add(&v->findings, F_DNS_ERROR, SEV_INFO, m->name,
				     "one address family of %s could not be resolved (%s); only the "
				     "addresses found were probed", m->name, m->addrs.detail);
		for (size_t a = 0; a < m->n_smtp; a++) {
			/* an address failing beside a good one on the same host is a warning */
			unsigned paths = mv->valid ? v->valid_paths : others;

			smtp_findings(o, m->name, &m->smtp[a], mode, paths, now, &v->findings);
		}
	}

	/* fails_at under the current policy, and expiry of the certificates on valid paths. */
	if (mode == POLICY_MODE_ENFORCE) {
		time_t last = 0;

		for (size_t i = 0; i < v->n_mx; i++)
			if (v->mx[i].valid && v->mx[i].valid_until > last)
				last = v->mx[i].valid_until;
		if (!v->valid_paths) {
			v->fails_at = now;
			bsnprintf(v->fails_why, sizeof(v->fails_why),
				  "no MX host gives a valid path under the current policy");
		} else {
			v->fails_at = last;
			bsnprintf(v->fails_why, sizeof(v->fails_why),
				  "the last valid MX certificate expires");
		}
	}
	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];

		for (size_t a = 0; a < m->n_smtp; a++) {
			const struct smtp_facts *s = &m->smtp[a];
			time_t end = addr_good_until(s);
			bool last_path;
			enum severity sev;
			char subject[HOST_LEN + IP_STR_LEN + 4];

			if (!addr_good(s))
				continue;
			if (!v->mx_cert_not_after || end < v->mx_cert_not_after)
				v->mx_cert_not_after = end;
			/* critical only when this certificate's expiry ends the last valid path */
			last_path = mode == POLICY_MODE_ENFORCE && v->mx[i].valid && end >= v->fails_at;
			sev = expiry_severity(o, &s->cert, now, last_path);
			if (sev == SEV_INFO)
				continue;
			bsnprintf(subject, sizeof(subject), "%s[%s]", m->name, s->ip);
			findings_add(&v->findings, F_MX_CERT_EXPIRING, sev, subject,
				     "certificate (issuer %s) expires %s; %s; renew it now and check "
				     "the renewal job", s->cert.issuer, when_str(end, now, when, sizeof(when)),
				     last_path ? "it is the last valid path: compliant senders stop "
				     "delivering then" : mode == POLICY_MODE_ENFORCE ?
				     "this path fails then, others remain" :
				     "this path would then fail under enforce");
		}
	}
}

/* ---- history: ids, cached policies, changes ------------------------------------------ */

static bool version_is_current(const struct policy_version *pv, const struct verdict *v)
{
	return v->have_policy && strcmp(pv->sha256, v->policy_sha256) == 0 &&
	       strcmp(pv->txt_id, v->txt.id) == 0;
}

static void judge_history(const struct domain_facts *df, const struct history *h, time_t now,
			  struct verdict *v)
{
	char subject[HOST_LEN + 16], when[80];

	if (!h->known)
		return;
	bsnprintf(subject, sizeof(subject), "_mta-sts.%s", df->domain);

	/* the id */
	if (v->txt.valid && h->txt_id[0] && strcmp(h->txt_id, v->txt.id) != 0)
		findings_add(&v->findings, F_STS_ID_CHANGED, SEV_INFO, subject,
			     "policy id changed from %s to %s: senders fetch the policy again",
			     h->txt_id, v->txt.id);
	if (v->txt.valid && v->have_policy) {
		const struct policy_version *stale = NULL, *reused = NULL;

		for (size_t i = 0; i < h->n_versions; i++) {
			const struct policy_version *pv = &h->versions[i];
			time_t held = (pv->replaced_at ? pv->replaced_at : now) + pv->max_age;

			/* once no sender can hold the old body, the id no longer matters */
			if (strcmp(pv->txt_id, v->txt.id) != 0 || strcmp(pv->sha256, v->policy_sha256) == 0 ||
			    held <= now)
				continue;
			/* was another id published after this version? then the id came back */
			for (size_t k = 0; k < h->n_versions; k++)
				if (strcmp(h->versions[k].txt_id, v->txt.id) != 0 &&
				    h->versions[k].first_seen > pv->last_seen)
					reused = pv;
			if (!reused && !stale)
				stale = pv;
		}
		if (reused)
			findings_add(&v->findings, F_STS_ID_REUSED, SEV_WARNING, subject,
				     "id %s was used before for another policy body (seen %s); a sender "
				     "that still caches that body under this id never refetches; use a "
				     "new id for every change (a timestamp works)", v->txt.id,
				     time_rfc3339(reused->first_seen, (char[32]){ 0 }, 32));
		else if (stale) {
			time_t until = (stale->replaced_at ? stale->replaced_at : now) + stale->max_age;

			findings_add(&v->findings, F_STS_ID_STALE, SEV_WARNING, subject,
				     "the policy body changed (sha256 %.12s -> %.12s) but the id stayed "
				     "%s: senders holding the old policy do not refetch it until its "
				     "max_age runs out (%s); bump the id whenever the policy changes",
				     stale->sha256, v->policy_sha256, v->txt.id,
				     when_str(until, now, when, sizeof(when)));
		}
	}

	/* the MX set */
	if (df->mx_rc == DNS_OK && h->n_mx && !df->mx_null) {
		struct dynbuf added, removed;

		dynbuf_init(&added, 1024);
		dynbuf_init(&removed, 1024);
		for (size_t i = 0; i < df->n_mx; i++) {
			bool seen = false;

			for (size_t k = 0; k < h->n_mx; k++)
				seen |= strcmp(h->mx[k], df->mx[i].name) == 0;
			if (!seen)
				dynbuf_printf(&added, "%s%s", added.len ? ", " : "", df->mx[i].name);
		}
		for (size_t k = 0; k < h->n_mx; k++) {
			bool seen = false;

			for (size_t i = 0; i < df->n_mx; i++)
				seen |= strcmp(h->mx[k], df->mx[i].name) == 0;
			if (!seen)
				dynbuf_printf(&removed, "%s%s", removed.len ? ", " : "", h->mx[k]);
		}
		if (added.len || removed.len)
			findings_add(&v->findings, F_MX_CHANGED, SEV_INFO, df->domain,
				     "MX set changed since %s: added %s; removed %s",
				     time_rfc3339(h->last_checked, (char[32]){ 0 }, 32),
				     added.len ? added.buf : "none", removed.len ? removed.buf : "none");
		dynbuf_free(&added);
		dynbuf_free(&removed);
	}

	/* renewed MX certificates */
	for (size_t i = 0; i < df->n_mx; i++) {
		for (size_t a = 0; a < df->mx[i].n_smtp; a++) {
			const struct smtp_facts *s = &df->mx[i].smtp[a];
			char subj[HOST_LEN + IP_STR_LEN + 4];

			if (!s->cert.present)
				continue;
			bsnprintf(subj, sizeof(subj), "%s[%s]", df->mx[i].name, s->ip);
			for (size_t k = 0; k < h->n_certs; k++) {
				const struct cert_seen *cs = &h->certs[k];

				if (strcmp(cs->subject, subj) == 0 && cs->sha256[0] &&
				    strcmp(cs->sha256, s->cert.sha256) != 0 && s->cert.not_after > cs->not_after)
					findings_add(&v->findings, F_MX_CERT_RENEWED, SEV_INFO, subj,
						     "certificate renewed: notAfter %s -> %s",
						     time_rfc3339(cs->not_after, (char[32]){ 0 }, 32),
						     time_rfc3339(s->cert.not_after, (char[32]){ 0 }, 32));
			}
		}
	}

	/*
	 * Cached policies (RFC 8461 3.3, 5.1): a sender holds a version until max_age after it
	 * last could have fetched it, and replaces it early only when it sees a new id and can
	 * fetch the new policy. Judge the current MX set under every version still held.
	 */
	if (df->mx_rc != DNS_OK || df->mx_null || !v->n_mx)
		return;
	for (size_t i = 0; i < h->n_versions; i++) {
		const struct policy_version *pv = &h->versions[i];
		time_t hold_until = (pv->replaced_at ? pv->replaced_at : now) + pv->max_age;
		bool kept, same_id = v->txt.valid && strcmp(pv->txt_id, v->txt.id) == 0;
		char missing[512], vwhen[80];
		time_t until;
		unsigned n;

		if (version_is_current(pv, v) || pv->mode != POLICY_MODE_ENFORCE || hold_until <= now)
			continue;
		if (v->policy_usable && strcmp(pv->sha256, v->policy_sha256) == 0)
			continue;	/* same body as what new senders get */
		kept = same_id || !v->policy_usable;
		if (!kept)
			continue;
		n = valid_under(pv->mx, pv->n_mx, v, &until, missing, sizeof(missing));
		if (n == 0) {
			findings_add(&v->findings, F_CACHE_STALE_POLICY, SEV_CRITICAL, df->domain,
				     "senders that cached the enforce policy served under id %s (sha256 "
				     "%.12s, first seen %s) %s until %s; it covers none of the working MX "
				     "hosts (%s), so their mail to the domain fails now; %s",
				     pv->txt_id, pv->sha256,
				     time_rfc3339(pv->first_seen, (char[32]){ 0 }, 32),
				     same_id ? "keep it, because the id did not change," :
				     "keep it, because the new policy cannot be used,",
				     when_str(hold_until, now, vwhen, sizeof(vwhen)),
				     missing[0] ? missing : "none", same_id ?
				     "put the old MX hosts back until then, and bump the id now" :
				     "fix the policy host and keep the old MX hosts until then");
			if (!v->fails_at || now < v->fails_at) {
				v->fails_at = now;
				bsnprintf(v->fails_why, sizeof(v->fails_why),
					  "a cached policy (id %s) covers no working MX host", pv->txt_id);
			}
		} else {
			if (missing[0])
				findings_add(&v->findings, F_CACHE_STALE_POLICY, SEV_WARNING, df->domain,
					     "senders that cached the policy served under id %s (until %s) "
					     "do not accept MX %s; they still deliver to the %u host%s it "
					     "covers; bump the id so they refetch", pv->txt_id,
					     when_str(hold_until, now, vwhen, sizeof(vwhen)), missing, n,
					     n == 1 ? "" : "s");
			if (until < hold_until && (!v->fails_at || until < v->fails_at)) {
				v->fails_at = until;
				bsnprintf(v->fails_why, sizeof(v->fails_why),
					  "the last MX certificate valid under a cached policy (id %s) "
					  "expires", pv->txt_id);
			}
		}
	}
}

/* ---- the whole domain ---------------------------------------------------------------- */

int judge_domain(const struct judge_opts *o, const struct domain_facts *df,
		 const struct history *h, time_t now, struct verdict *out)
{
	static const struct history none;

	memset(out, 0, sizeof(*out));
	findings_init(&out->findings);
	if (!h)
		h = &none;
	if (df->deadline_hit)
		findings_add(&out->findings, F_CHECK_TIMEOUT, SEV_UNKNOWN, df->domain,
			     "the check did not finish before its deadline (still pending: %s); "
			     "the verdict covers only what was answered",
			     df->pending[0] ? df->pending : "unknown");
	if (df->mx_rc == DNS_NXDOMAIN) {
		/* every other name of the domain is then NXDOMAIN too: one finding says it */
		findings_add(&out->findings, F_DNS_NXDOMAIN, SEV_CRITICAL, df->domain,
			     "%s does not exist in DNS (NXDOMAIN for its MX query): no mail can be "
			     "sent to it, with or without MTA-STS; check the spelling in the watch "
			     "list, the registration and the delegation of the domain", df->domain);
		goto out;
	}
	judge_txt(df, h, now, out);
	judge_tlsrpt(o, df, out);
	judge_policy(o, df, h, now, out);
	judge_mx(o, df, now, out);
	judge_history(df, h, now, out);
out:
	findings_sort(&out->findings);
	out->status = findings_status(&out->findings);
	return 0;
}

void verdict_free(struct verdict *v)
{
	policy_free(&v->policy);
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
