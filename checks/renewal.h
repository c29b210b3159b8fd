/*
 * renewal: how a host's certificates are renewed, read from their history, pure. Where a
 * host has been renewed on a cycle (an ACME client at about 30 days left), an expiry is
 * judged against that habit: quiet while the renewal is not yet due, a warning as soon as
 * it is overdue, weeks before a fixed threshold would notice a broken renewal job.
 */
#ifndef STSWATCH_RENEWAL_H
#define STSWATCH_RENEWAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define RENEWAL_HISTORY 8	/* certificates of one host looked at, newest last */

/* One certificate of a host as the history saw it. */
struct renewal_cert {
	time_t first_seen;	/* first check that saw it */
	time_t not_before, not_after;
};

struct renewal_habit {
	bool known;		/* at least two renewals at about the same time left */
	unsigned renewals;	/* renewals seen */
	double left_days;	/* time left on the old certificate when it was renewed (median) */
	time_t due;		/* when the current certificate should be renewed by habit */
	time_t overdue;		/* due plus a day and 1.5 times the renewals' largest deviation */
};

/*
 * Read the habit from certs[0..n) (oldest first; the last is the current certificate).
 * A renewal is a new certificate seen while the old one was still valid; the time left
 * at renewal is the old notAfter minus the new one's notBefore (its issue time), or minus
 * its first sighting when notBefore is implausible. The habit is known when there are two
 * renewals or more and all lie within 20% (at least two days) of their median; it is
 * overdue a day plus one and a half times the renewals' largest deviation after due.
 */
void renewal_habit_of(const struct renewal_cert *certs, size_t n, struct renewal_habit *out);

#endif
