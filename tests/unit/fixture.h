/* fixture: a healthy enforce domain, as facts, for the unit tests to change. */
#ifndef STSWATCH_TEST_FIXTURE_H
#define STSWATCH_TEST_FIXTURE_H

#include "checks/facts.h"

#define NOW ((time_t)1800000000)	/* 2027-01-15T08:00:00Z; time is a parameter */
#define DAY 86400

/* version STSv1, enforce, mx1 and mx2.example.org, max_age one week, CRLF */
extern const char healthy_policy[];

/* Replace a TXT answer by one record. */
void fixture_set_txt(struct txt_answer *ta, const char *rec);
/* A certificate that verifies for name and expires at not_after (90-day lifetime). */
void fixture_good_cert(struct cert_facts *cf, const char *name, time_t not_after);
/* Replace the fetched policy body. */
void fixture_set_policy(struct domain_facts *df, const char *body);
/* example.org: valid TXT and TLS-RPT, policy served, two MX with TLS 1.3 and good certs
 * expiring in 60 and 70 days. */
void fixture_healthy(struct domain_facts *df);

#endif
