/* metrics: the Prometheus text exposition of what the database knows and the agent did. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lib/str.h"

#ifndef STSWATCH_VERSION
#define STSWATCH_VERSION "dev"
#endif

struct walk {
	struct dynbuf *out;
	const struct config *cfg;	/* only its domains are exported; NULL: every one */
	size_t counts[4];
	int section;
};

/* A row of a domain no longer configured stays in the database, not in the metrics. */
static bool exported(const struct walk *w, const char *domain)
{
	return !w->cfg || config_find_domain(w->cfg, domain);
}

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static void label(struct dynbuf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			dynbuf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			dynbuf_printf(out, "\\n");
		else if ((unsigned char)*v >= 0x20)
			dynbuf_append(out, v, 1);
	}
}

static void family(struct dynbuf *out, const char *name, const char *type, const char *help)
{
	dynbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int status_value(const char *s)
{
	return strcmp(s, "OK") == 0 ? 0 : strcmp(s, "WARNING") == 0 ? 1 :
	       strcmp(s, "CRITICAL") == 0 ? 2 : 3;
}

/* One pass per metric family: the exposition format wants each family together. */
static int per_domain(void *arg, const struct store_domain_row *r)
{
	struct walk *w = arg;
	struct dynbuf *out = w->out;

	if (!exported(w, r->domain))
		return 0;
	switch (w->section) {
	case 0:
		w->counts[status_value(r->status)]++;
		dynbuf_printf(out, "stswatch_domain_status{domain=\"");
		label(out, r->domain);
		dynbuf_printf(out, "\"} %d\n", status_value(r->status));
		break;
	case 1:
		if (!r->fails_at)
			break;
		dynbuf_printf(out, "stswatch_domain_fails_at_timestamp_seconds{domain=\"");
		label(out, r->domain);
		dynbuf_printf(out, "\"} %lld\n", (long long)r->fails_at);
		break;
	case 2:
		if (r->max_age < 0)
			break;
		dynbuf_printf(out, "stswatch_domain_policy_max_age_seconds{domain=\"");
		label(out, r->domain);
		dynbuf_printf(out, "\"} %ld\n", r->max_age);
		break;
	case 3:
		if (!r->mode)
			break;
		dynbuf_printf(out, "stswatch_domain_policy_mode{domain=\"");
		label(out, r->domain);
		dynbuf_printf(out, "\",mode=\"");
		label(out, r->mode);
		dynbuf_printf(out, "\"} 1\n");
		break;
	default:
		dynbuf_printf(out, "stswatch_domain_last_check_timestamp_seconds{domain=\"");
		label(out, r->domain);
		dynbuf_printf(out, "\"} %lld\n", (long long)r->last_checked);
		break;
	}
	return 0;
}

static int per_mx(void *arg, const char *domain, const char *host, time_t not_after)
{
	struct walk *w = arg;
	struct dynbuf *out = w->out;

	if (!exported(w, domain))
		return 0;
	dynbuf_printf(out, "stswatch_mx_cert_not_after_timestamp_seconds{domain=\"");
	label(out, domain);
	dynbuf_printf(out, "\",mx=\"");
	label(out, host);
	dynbuf_printf(out, "\"} %lld\n", (long long)not_after);
	return 0;
}

int metrics_render(struct store *st, const struct config *cfg, const struct metrics_agent *ag,
		   struct dynbuf *out)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ "stswatch_domain_status", "Status of the domain at its last check: 0 OK, 1 "
		  "WARNING, 2 CRITICAL, 3 UNKNOWN." },
		{ "stswatch_domain_fails_at_timestamp_seconds", "When compliant senders are "
		  "predicted to fail to deliver to the domain (Unix time)." },
		{ "stswatch_domain_policy_max_age_seconds", "max_age of the MTA-STS policy served "
		  "now." },
		{ "stswatch_domain_policy_mode", "Mode of the policy senders use now (the label), "
		  "always 1." },
		{ "stswatch_domain_last_check_timestamp_seconds", "When the domain was last "
		  "checked (Unix time)." },
	};
	static const char *const st_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	struct walk w = { .out = out, .cfg = cfg };
	size_t pending = 0, failed = 0;

	for (int sec = 0; sec < 5; sec++) {
		family(out, fam[sec].name, "gauge", fam[sec].help);
		w.section = sec;
		if (store_each_domain(st, per_domain, &w) < 0)
			return -1;
	}
	family(out, "stswatch_mx_cert_not_after_timestamp_seconds", "gauge",
	       "Earliest certificate expiry seen on the MX host at the domain's last check "
	       "(Unix time).");
	if (store_each_mx_expiry(st, per_mx, &w) < 0)
		return -1;
	family(out, "stswatch_domains", "gauge", "Domains by status at their last check.");
	for (int i = 0; i < 4; i++)
		dynbuf_printf(out, "stswatch_domains{status=\"%s\"} %zu\n", st_names[i], w.counts[i]);
	if (store_outbox_counts(st, &pending, &failed) < 0)
		return -1;
	family(out, "stswatch_outbox_notifications", "gauge",
	       "Notifications waiting for their receiver (pending) or given up (failed).");
	dynbuf_printf(out, "stswatch_outbox_notifications{state=\"pending\"} %zu\n", pending);
	dynbuf_printf(out, "stswatch_outbox_notifications{state=\"failed\"} %zu\n", failed);
	family(out, "stswatch_checks_total", "counter", "Domains checked by this process.");
	dynbuf_printf(out, "stswatch_checks_total %llu\n", (unsigned long long)ag->checks);
	family(out, "stswatch_check_duration_seconds_total", "counter",
	       "Seconds spent checking domains, summed, by this process.");
	dynbuf_printf(out, "stswatch_check_duration_seconds_total %.3f\n", ag->check_seconds);
	family(out, "stswatch_last_cycle_timestamp_seconds", "gauge",
	       "End of the last completed cycle or run (Unix time).");
	dynbuf_printf(out, "stswatch_last_cycle_timestamp_seconds %lld\n", (long long)ag->last_cycle);
	family(out, "stswatch_last_cycle_duration_seconds", "gauge",
	       "Duration of the last completed cycle or run.");
	dynbuf_printf(out, "stswatch_last_cycle_duration_seconds %.3f\n", ag->last_cycle_seconds);
	family(out, "stswatch_start_time_seconds", "gauge", "Start of this process (Unix time).");
	dynbuf_printf(out, "stswatch_start_time_seconds %lld\n", (long long)ag->started);
	family(out, "stswatch_build_info", "gauge", "Version of stswatch, always 1.");
	dynbuf_printf(out, "stswatch_build_info{version=\"%s\"} 1\n", STSWATCH_VERSION);
	return out->toobig ? -1 : 0;
}

int metrics_write_file(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[1100];
	size_t len = strlen(text), off = 0;
	int fd;

	if (bsnprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) < 0) {
		bsnprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	/* node_exporter's textfile collector reads *.prom: the temporary name is not one */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		bsnprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			bsnprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		bsnprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		bsnprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int metrics_update_file(struct store *st, const struct config *cfg,
			const struct metrics_agent *ag, const char *path, char *err, size_t errlen)
{
	struct dynbuf out;
	int rc = -1;

	dynbuf_init(&out, 0);
	if (metrics_render(st, cfg, ag, &out) < 0) {
		bsnprintf(err, errlen, "%s", store_error(st));
		goto out;
	}
	rc = metrics_write_file(path, out.buf ? out.buf : "", err, errlen);
out:
	dynbuf_free(&out);
	return rc;
}
