/* metrics: the Prometheus text exposition of what the database knows and the agent did. */
#ifndef STSWATCH_METRICS_H
#define STSWATCH_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"
#include "lib/dynbuf.h"

struct config;

/* What the running agent adds to what the database knows. */
struct metrics_agent {
	uint64_t checks;		/* domains checked by this process */
	double check_seconds;		/* summed duration of those checks */
	time_t last_cycle;		/* end of the last completed cycle (or run), 0 none */
	double last_cycle_seconds;
	time_t started;			/* process start */
};

/*
 * Render the exposition: per domain its status, fails_at, policy max_age and mode, the
 * earliest certificate expiry of each MX host and the last check; for the agent the
 * domains by status, checks done, their duration, the outbox pending and failed, build
 * info. Labels are only domain, mx, mode and status, so cardinality stays bounded.
 * Only the domains of cfg are exported (one removed from the configuration keeps its
 * history in the database, not a frozen series); cfg NULL: every domain recorded.
 */
int metrics_render(struct store *st, const struct config *cfg, const struct metrics_agent *ag,
		   struct dynbuf *out);

/* Write text to path atomically (a temporary file in the same directory, then rename). */
int metrics_write_file(const char *path, const char *text, char *err, size_t errlen);
/* Render (cfg's domains) and write the metrics file at path (the daemon's cycle, run
 * --once's end); -1 with err. */
int metrics_update_file(struct store *st, const struct config *cfg,
			const struct metrics_agent *ag, const char *path, char *err, size_t errlen);

#endif
