/*
 * judge: the pure verdict on one domain: (options, facts, the policy versions a sender may
 * still hold, now) -> findings, status, valid paths and fails_at. No I/O, no clock, no globals.
 */
#ifndef STSWATCH_JUDGE_H
#define STSWATCH_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "facts.h"
#include "findings.h"
#include "policy.h"
#include "renewal.h"
#include "sts_txt.h"
#include "tlsrpt.h"

struct judge_opts {
	double warn_days, crit_days;	/* certificate and fails_at thresholds */
	double warn_frac, crit_frac;	/* ...or this fraction of a certificate's lifetime */
	unsigned slow_ms;		/* a policy fetch slower than this is policy.slow */
	bool tlsrpt;			/* report missing or invalid TLS-RPT */
	enum severity timeout_sev;	/* of check.timeout, our own deadline (the plugin's
					 * --timeout-result); UNKNOWN by default */
	enum findings_view view;	/* how differences between senders are graded
					 * (checks/senders.h): VIEW_LIVE by default, lint
					 * VIEW_LINT_STRICT or, with --lenient, VIEW_LINT_LENIENT */
};

/* Defaults: warning 21 days or a third of the lifetime, critical 7 days or a tenth; a
 * deadline is UNKNOWN. */
void judge_opts_defaults(struct judge_opts *o);

/* One policy version seen in the past, as the store remembers it. */
struct policy_version {
	char txt_id[STS_ID_MAX + 1];	/* the id it was served under */
	char sha256[65];	/* of the body */
	enum policy_mode mode;
	long max_age;
	size_t n_mx;
	char **mx;
	time_t first_seen, last_seen;
	time_t replaced_at;	/* when another body was first seen instead; 0 while current */
};

/* The last certificate seen for one subject ("mta-sts.example.org", "mx1.example.org[ip]"). */
struct cert_seen {
	char subject[320];
	char sha256[65];
	time_t not_after;
	size_t n_hist;
	struct renewal_cert hist[RENEWAL_HISTORY];	/* its certificates, oldest first */
};

/* What earlier checks of the domain left behind; all zero when there is no history. */
struct history {
	bool known;			/* at least one earlier check */
	time_t last_checked;
	char txt_id[STS_ID_MAX + 1];	/* id of the last valid TXT record, "" if never */
	time_t txt_last_seen;
	bool policy_served;		/* a valid policy was fetched before */
	time_t policy_last_served;
	size_t n_versions;
	struct policy_version *versions;	/* newest first */
	size_t n_mx;
	char **mx;			/* MX host names of the last check */
	size_t n_certs;
	struct cert_seen *certs;
};

struct mx_verdict {
	char name[HOST_LEN];
	bool matched;		/* covered by a pattern of the current policy */
	int pattern;		/* index of the pattern, -1 */
	bool valid;		/* a compliant sender can deliver here: a good address, and
				 * matched when the policy has patterns */
	time_t valid_until;	/* latest notAfter among the good addresses */
	size_t n_good;		/* good addresses */
};

struct verdict {
	enum status status;
	struct sts_txt txt;
	bool have_policy;		/* a policy body was fetched and parsed */
	struct policy policy;		/* parsed body (maybe invalid); free with verdict_free */
	char policy_sha256[65];		/* "" when no body */
	bool policy_usable;		/* a sender would use this policy */
	enum policy_mode mode;		/* of the usable policy, UNSET otherwise */
	struct tlsrpt tlsrpt;
	size_t n_mx;
	struct mx_verdict *mx;
	unsigned valid_paths;		/* matched and valid MX hosts */
	unsigned unmatched;		/* MX hosts the policy does not cover */
	unsigned mx_pending;		/* MX hosts the deadline left without facts: the
					 * valid paths and fails_at are then not known */
	time_t fails_at;		/* first moment a compliant sender cannot deliver; 0 none */
	char fails_why[256];
	/*
	 * No usable policy is served now, but senders that cached one keep enforcing it
	 * (RFC 8461 5.1): the MX hosts are judged under that version, and protection ends
	 * when they drop it (its last good fetch plus its max_age). Senders without a cached
	 * copy deliver without MTA-STS meanwhile.
	 */
	bool under_cache;
	struct policy cached;		/* mode, max_age and mx of that version */
	char cached_id[STS_ID_MAX + 1];	/* the id it was served under */
	time_t cached_fetched;		/* its last good fetch */
	time_t protection_ends;		/* when the last senders drop it; 0 when not under_cache */
	time_t policy_cert_not_after;	/* 0 when unknown */
	time_t mx_cert_not_after;	/* earliest among good MX addresses, 0 when none */
	struct findings findings;
};

/* Start a findings list graded under o's view (the live judge and lint both use it). */
void judge_findings_init(const struct judge_opts *o, struct findings *fs);

/* Judge one domain. Returns 0; the verdict must be freed with verdict_free. */
int judge_domain(const struct judge_opts *o, const struct domain_facts *df,
		 const struct history *h, time_t now, struct verdict *out);

/* Free what a verdict owns. */
void verdict_free(struct verdict *v);

/* The policy the MX hosts were judged under: the current one, a cached one, or NULL. */
const struct policy *verdict_mx_policy(const struct verdict *v);

/* Free what a history owns (filled by the store). */
void history_free(struct history *h);

/*
 * Add mx.unmatched for host, which no pattern of policy p covers, as senders reading p in
 * mode see it: CRITICAL under enforce (they refuse the host now), WARNING under testing,
 * INFO otherwise; the evidence says why each pattern (the first few) does not match. The
 * live judge and lint both call it, so the rule lives here once.
 */
void judge_mx_unmatched(const struct policy *p, enum policy_mode mode, const char *host,
			struct findings *fs);

/* Thresholds for one certificate: seconds before notAfter that count as warning, critical. */
void judge_cert_thresholds(const struct judge_opts *o, time_t not_before, time_t not_after,
			   double *warn_s, double *crit_s);

#endif
