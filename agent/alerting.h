/* alerting: from a recorded check to the alert state machine and the outbox, in the
 * check's own transaction, so an alert is never lost nor sent for an unrecorded check. */
#ifndef STSWATCH_ALERTING_H
#define STSWATCH_ALERTING_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "alerts/alert.h"
#include "checks/facts.h"
#include "checks/judge.h"
#include "checks/vantage.h"
#include "config.h"
#include "store.h"

struct alerting_result {
	enum alert_kind kind;		/* ALERT_NONE: nothing to tell */
	enum alert_status status, previous;
	char incident[ALERT_ID_LEN];
	size_t queued;			/* outbox rows written, one per receiver */
	bool unconfirmed;		/* an incident waits for confirming checks */
};

/* One log line per status change and per notification queued (nothing for the rest). */
void alerting_log(const char *domain, const struct store_delta *d,
		  const struct alerting_result *ar);

/* The state machine's settings from the configuration. */
void alerting_conf(const struct config *cfg, struct alert_conf *out);

/*
 * Inside the open transaction that records the check of d: decide what it means for the
 * domain's receivers and queue it (email rows wait batch_delay seconds for others of the
 * same run; the daemon passes alerts.email_batch, run --once 0 and batches at its end).
 */
int alerting_evaluate(const struct config *cfg, struct store *st, int64_t run_id,
		      const struct domain_conf *d, const struct domain_facts *df,
		      const struct verdict *v, json_t *report, time_t now, unsigned batch_delay,
		      struct alerting_result *res);

/*
 * The whole recording of one checked domain: begin, store_record_check, alerting_evaluate,
 * commit; rolled back on any failure, the error in store_error(st). delta may be NULL.
 */
int alerting_record(const struct config *cfg, struct store *st, int64_t run_id,
		    const struct domain_conf *d, const struct domain_facts *df,
		    const struct verdict *v, json_t *report, time_t now, unsigned batch_delay,
		    struct store_delta *delta, struct alerting_result *res);

/* Queue an "inconclusive" notification for the operator receiver (none configured: 0). */
int alerting_inconclusive(const struct config *cfg, struct store *st, int64_t run_id,
			  const char *why, time_t now);
/*
 * After the vantage verdict changed: remember it (meta "vantage", which status shows) and
 * tell the operator once when the monitor's view turns bad.
 */
int alerting_vantage(const struct config *cfg, struct store *st, int64_t run_id,
		     const struct vantage *v, time_t now);
/* Start a run's tracker from the last run's verdict. */
void alerting_vantage_seed(struct store *st, struct vantage *v);

/*
 * The daily digests: every receiver with a digest time whose moment (in its time zone)
 * passed since its last digest gets one, listing the open problems of its domains by
 * fails_at and what changed since the last one. *queued counts them.
 */
int alerting_digests(const struct config *cfg, struct store *st, int64_t run_id, time_t now,
		     size_t *queued);

/*
 * What Alertmanager's re-send posts for a domain (docs/ALERT-DATA.md, "The re-send"): data
 * shaped like a notification's, NULL when no open incident was told. Its findings are
 * those receivers were told of in the open incidents, each with the words of report (this
 * check) unless they rose above what was told without a notification (note: this check's,
 * NULL for none; its notification posted them), else the words kept in prev (the last such
 * data, may be NULL). Domain fields (status, fails_at, fails_reason, checked_at, mode)
 * come from report, or from prev when the check could not tell; kind and previous_status
 * (for the summary) from the last problem, escalated or reminder notification.
 */
json_t *alerting_resend_data(const char *domain, const struct alert_state *s, const json_t *report,
			     const json_t *prev, bool could_tell, const struct alert_note *note);

/*
 * The re-send data (an array, caller owns it) of every domain routed to cfg->receivers[ri]
 * with an open incident told, kept in its alert state by the last check; a state from a
 * stswatch that did not keep it gets its words from the domain's last check report,
 * counted in *from_report.
 */
int alerting_resend_collect(const struct config *cfg, struct store *st, size_t ri, json_t **out,
			    size_t *from_report);

/* A fresh notification id: 32 hex digits from the system's random source. */
void alerting_new_id(char out[33]);

#endif
