/*
 * vantage: is the monitor's own view sound? Pure: learns from every checked domain's facts
 * whether outbound port 25 works from here (a cloud host that blocks it makes every MX
 * look dead) and whether the resolver answers, so that such a run is inconclusive: the
 * domains' owners are not told their MX hosts fail when it is the monitor that cannot see.
 */
#include "vantage.h"

#include <string.h>

#include "lib/str.h"

void vantage_init(struct vantage *v)
{
	memset(v, 0, sizeof(*v));
}

static void learn_smtp(struct vantage *v, const char *ip, bool ok)
{
	for (size_t i = 0; i < v->n_smtp; i++)
		if (strcmp(v->smtp[i].ip, ip) == 0) {
			v->smtp[i].ok = ok;	/* one address counts once, as it was last */
			return;
		}
	strlcpy_s(v->smtp[v->next_smtp].ip, ip, IP_STR_LEN);
	v->smtp[v->next_smtp].ok = ok;
	v->next_smtp = (v->next_smtp + 1) % VANTAGE_WINDOW;
	if (v->n_smtp < VANTAGE_WINDOW)
		v->n_smtp++;
}

static void learn_dns(struct vantage *v, enum dns_result rc)
{
	if (rc == DNS_NOT_ASKED)
		return;
	/* any answer, SERVFAIL and REFUSED included, means the resolver talks to us */
	v->dns[v->next_dns] = rc != DNS_TIMEOUT && rc != DNS_ERROR;
	v->next_dns = (v->next_dns + 1) % VANTAGE_WINDOW;
	if (v->n_dns < VANTAGE_WINDOW)
		v->n_dns++;
}

/* What one STARTTLS probe says of port 25: 1 it connected, 0 the connect failed, -1 nothing. */
static int smtp_reached(const struct smtp_facts *s)
{
	if (s->rc == SMTP_OK || (s->rc != SMTP_NOT_ASKED && s->rc != SMTP_SKIPPED &&
				 s->rc != SMTP_LOCAL && s->stage > SMTP_STAGE_CONNECT))
		return 1;
	if ((s->rc == SMTP_CONNECT || s->rc == SMTP_TIMEOUT) && s->stage == SMTP_STAGE_CONNECT)
		return 0;
	return -1;
}

bool vantage_feed(struct vantage *v, const struct domain_facts *df)
{
	bool was_blocked = v->smtp_blocked, was_blind = v->dns_blind;
	size_t bad = 0, lost = 0;

	for (size_t i = 0; i < df->n_mx; i++)
		for (size_t a = 0; a < df->mx[i].n_smtp; a++) {
			const struct smtp_facts *s = &df->mx[i].smtp[a];
			int reached = smtp_reached(s);

			if (reached >= 0)
				learn_smtp(v, s->ip, reached == 1);
		}
	learn_dns(v, df->sts_txt.rc);
	learn_dns(v, df->mx_rc);
	for (size_t i = 0; i < v->n_smtp; i++)
		bad += !v->smtp[i].ok;
	for (size_t i = 0; i < v->n_dns; i++)
		lost += !v->dns[i];
	/* hysteresis: blocked at 90% failing, sound again below half */
	if (v->n_smtp >= VANTAGE_MIN_SMTP && bad * 10 >= v->n_smtp * 9)
		v->smtp_blocked = true;
	else if (bad * 2 < v->n_smtp)
		v->smtp_blocked = false;
	if (v->n_dns >= VANTAGE_MIN_DNS && lost * 10 >= v->n_dns * 9)
		v->dns_blind = true;
	else if (lost * 2 < v->n_dns)
		v->dns_blind = false;
	if (v->smtp_blocked)
		bsnprintf(v->why, sizeof(v->why), "outbound connections to port 25 appear blocked "
			  "from this host: %zu of the last %zu MX addresses tried did not accept a "
			  "TCP connection", bad, v->n_smtp);
	else if (v->dns_blind)
		bsnprintf(v->why, sizeof(v->why), "the resolver does not answer: %zu of the last "
			  "%zu DNS questions got no answer", lost, v->n_dns);
	else
		v->why[0] = '\0';
	return was_blocked != v->smtp_blocked || was_blind != v->dns_blind;
}

void vantage_apply(const struct vantage *v, struct domain_facts *df)
{
	df->vantage_smtp_blocked = v->smtp_blocked;
	df->vantage_dns_blind = v->dns_blind;
	strlcpy_s(df->vantage_why, v->why, sizeof(df->vantage_why));
}

bool vantage_smtp_known(const struct vantage *v)
{
	return v->n_smtp >= VANTAGE_MIN_SMTP;
}

bool vantage_hold(const struct vantage *v, const struct domain_facts *df, size_t n_held)
{
	size_t refused = 0;

	if (vantage_smtp_known(v) || n_held >= VANTAGE_HOLD_MAX)
		return false;
	for (size_t i = 0; i < df->n_mx; i++)
		for (size_t a = 0; a < df->mx[i].n_smtp; a++)
			switch (smtp_reached(&df->mx[i].smtp[a])) {
			case 1:
				return false;	/* port 25 works for this domain: judge it now */
			case 0:
				refused++;
				break;
			default:
				break;
			}
	return refused > 0;
}
