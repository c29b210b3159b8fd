/* fixture: a healthy enforce domain, as facts, for the unit tests to change. */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fixture.h"

const char healthy_policy[] = "version: STSv1\r\nmode: enforce\r\n"
				     "mx: mx1.example.org\r\nmx: mx2.example.org\r\n"
				     "max_age: 604800\r\n";

void fixture_set_txt(struct txt_answer *ta, const char *rec)
{
	txt_answer_free(ta);
	ta->rc = DNS_OK;
	ta->n = 1;
	ta->recs[0] = strdup(rec);
	ta->lens[0] = strlen(rec);
}

void fixture_good_cert(struct cert_facts *cf, const char *name, time_t not_after)
{
	memset(cf, 0, sizeof(*cf));
	cf->present = true;
	strcpy(cf->expected_name, name);
	strcpy(cf->subject, name);
	strcpy(cf->issuer, "Lab Intermediate CA");
	strcpy(cf->sans, name);
	cf->not_before = not_after - 90 * DAY;
	cf->not_after = not_after;
	snprintf(cf->sha256, sizeof(cf->sha256), "%064lx", (unsigned long)not_after);
	cf->chain_len = 2;
}

void fixture_set_policy(struct domain_facts *df, const char *body)
{
	free(df->fetch.body);
	df->fetch.body = strdup(body);
	df->fetch.body_len = strlen(body);
}

/* A domain every compliant sender delivers to: the baseline each row changes. */
void fixture_healthy(struct domain_facts *df)
{
	domain_facts_init(df, "example.org");
	df->checked_at = NOW;
	fixture_set_txt(&df->sts_txt, "v=STSv1; id=20260101T000000");
	fixture_set_txt(&df->tlsrpt_txt, "v=TLSRPTv1; rua=mailto:tlsrpt@example.org");
	df->policy_addrs.rc4 = DNS_OK;
	df->policy_addrs.rc6 = DNS_NODATA;
	df->policy_addrs.n = 1;
	df->policy_addrs.v[0].family = AF_INET;
	strcpy(df->policy_addrs.v[0].ip, "192.0.2.80");
	df->fetch.rc = FETCH_OK;
	strcpy(df->fetch.url, "https://mta-sts.example.org/.well-known/mta-sts.txt");
	df->fetch.http_status = 200;
	strcpy(df->fetch.content_type, "text/plain");
	df->fetch.total_ms = 120;
	fixture_good_cert(&df->fetch.cert, "mta-sts.example.org", NOW + 60 * DAY);
	fixture_set_policy(df, healthy_policy);
	df->mx_rc = DNS_OK;
	df->n_mx = 2;
	df->mx = calloc(2, sizeof(*df->mx));
	for (int i = 0; i < 2; i++) {
		struct mx_host_facts *m = &df->mx[i];

		snprintf(m->name, sizeof(m->name), "mx%d.example.org", i + 1);
		m->preference = 10 * (i + 1);
		m->addrs.rc4 = DNS_OK;
		m->addrs.rc6 = DNS_NODATA;
		m->addrs.n = 1;
		m->addrs.v[0].family = AF_INET;
		snprintf(m->addrs.v[0].ip, IP_STR_LEN, "192.0.2.%d", i + 1);
		m->n_smtp = 1;
		m->smtp = calloc(1, sizeof(*m->smtp));
		m->smtp[0].family = AF_INET;
		strcpy(m->smtp[0].ip, m->addrs.v[0].ip);
		m->smtp[0].rc = SMTP_OK;
		m->smtp[0].stage = SMTP_STAGE_DONE;
		m->smtp[0].starttls_offered = true;
		strcpy(m->smtp[0].tls_version, "TLSv1.3");
		m->smtp[0].tls_version_num = TLS1_3_VERSION;
		fixture_good_cert(&m->smtp[0].cert, m->name, NOW + (60 + i * 10) * DAY);
	}
}

