/*
 * renewal: how a host's certificates are renewed, read from their history, pure. Where a
 * host has been renewed on a cycle (an ACME client at about 30 days left), an expiry is
 * judged against that habit: quiet while the renewal is not yet due, a warning as soon as
 * it is overdue, weeks before a fixed threshold would notice a broken renewal job.
 */
#include "renewal.h"

#include <stdlib.h>
#include <string.h>

#define DAY 86400.0

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void renewal_habit_of(const struct renewal_cert *certs, size_t n, struct renewal_habit *out)
{
	double left[RENEWAL_HISTORY], median, spread, dev = 0;
	const struct renewal_cert *cur;
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	if (n > RENEWAL_HISTORY) {
		certs += n - RENEWAL_HISTORY;
		n = RENEWAL_HISTORY;
	}
	for (size_t i = 1; i < n; i++) {
		const struct renewal_cert *a = &certs[i - 1], *b = &certs[i];
		time_t at = b->not_before;

		/* an issue time before the old one's, or after we saw it, is not the renewal */
		if (at <= a->not_before || at > b->first_seen)
			at = b->first_seen;
		/* a replacement after expiry is a late repair, not a renewal habit */
		if (at >= a->not_after || b->not_after <= a->not_after)
			continue;
		left[k++] = (double)(a->not_after - at) / DAY;
	}
	out->renewals = (unsigned)k;
	if (k < 2)
		return;
	qsort(left, k, sizeof(left[0]), cmp_double);
	median = k % 2 ? left[k / 2] : (left[k / 2 - 1] + left[k / 2]) / 2;
	spread = median * 0.2 > 2 ? median * 0.2 : 2;
	for (size_t i = 0; i < k; i++) {
		double d = left[i] > median ? left[i] - median : median - left[i];

		if (d > spread)
			return;	/* renewed at no regular time: no habit to judge by */
		dev = d > dev ? d : dev;
	}
	cur = &certs[n - 1];
	out->known = true;
	out->left_days = median;
	out->due = cur->not_after - (time_t)(median * DAY);
	/* late by the habit's own spread (one and a half times it) and a day for the checks'
	 * own delay is not "overdue" yet */
	out->overdue = out->due + (time_t)((1.5 * dev + 1) * DAY);
}
