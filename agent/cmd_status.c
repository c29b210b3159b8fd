/* cmd_status: "stswatch status", "history" and "db": what the database remembers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "output.h"
#include "metrics.h"
#include "store.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

enum { OPT_SINCE = 5000 };

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

/* Open the database named by --db, the configuration, or the default. */
static struct store *open_db(const struct cli_common *c, struct config *cfg, bool need_config,
			     enum store_mode mode, const char *cmd)
{
	struct store *st;
	char err[512];

	if (cli_load_config(cfg, c, need_config) < 0)
		return NULL;
	st = store_open(cfg->database, mode, err, sizeof(err));
	if (!st)
		cli_error(cmd, "%s", err);
	return st;
}

static void status_text(json_t *o, const char *domain, time_t now)
{
	json_t *fs = json_object_get(o, "findings");
	const char *fails = jstr(o, "fails_at");
	time_t t;

	if (time_parse(fails, &t) == 0 && t <= now)
		fails = "now";
	printf("%-32s %-8s since %-20s mode %-7s id %-20s fails %-20s checked %s\n", domain,
	       jstr(o, "status"), jstr(o, "since"), jstr(o, "mode"), jstr(o, "txt_id"), fails,
	       jstr(o, "checked_at"));
	for (size_t i = 0; i < json_array_size(fs); i++) {
		json_t *f = json_array_get(fs, i);

		if (strcmp(jstr(f, "severity"), "INFO") == 0)
			continue;
		printf("    %-8s %s  %s  (open since %s)\n", jstr(f, "severity"), jstr(f, "code"),
		       jstr(f, "subject"), jstr(f, "opened_at"));
		printf("             %s\n", jstr(f, "message"));
	}
	fs = json_object_get(o, "silences");
	for (size_t i = 0; i < json_array_size(fs); i++) {
		json_t *sl = json_array_get(fs, i);

		printf("    silenced %s%s until %s: %s\n",
		       json_is_string(json_object_get(sl, "code")) ? "" : "(every finding)",
		       json_is_string(json_object_get(sl, "code")) ? jstr(sl, "code") : "",
		       jstr(sl, "until"), jstr(sl, "reason"));
	}
}

/* The silences in force for the domain, as "silences" of its status object. */
static int add_silences(struct store *st, const char *domain, time_t now, json_t *o)
{
	struct store_silence *sil = NULL;
	size_t n = 0;
	json_t *a;

	if (store_silences_active(st, domain, now, &sil, &n) < 0)
		return -1;
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "code", sil[i].code[0] ? json_str(sil[i].code) : json_null());
		json_object_set_new(e, "until", json_time(sil[i].until));
		json_object_set_new(e, "reason", json_str(sil[i].reason));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "silences", a);
	free(sil);
	return 0;
}

/* When the last run could not see (its port 25 blocked, its resolver mute), say so first. */
static void vantage_note(struct store *st)
{
	char v[300], *why;
	bool found;
	long long since;

	if (store_meta_get(st, "vantage", v, sizeof(v), &found) < 0 || !found ||
	    strncmp(v, "bad ", 4) != 0)
		return;
	since = strtoll(v + 4, &why, 10);
	printf("note: since %s the monitor's checks are inconclusive: %s; domains it cannot see "
	       "are UNKNOWN (check.vantage) and their owners are not alerted\n\n",
	       time_rfc3339((time_t)since, (char[32]){ 0 }, 32), *why ? why + 1 : "");
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct config cfg;
	struct store *st = NULL;
	json_t *names = NULL;
	time_t now = time(NULL);
	int opt, rc = EXIT_UNKNOWN;
	struct summary sum = { 0 };

	config_defaults(&cfg);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:f:h", longopts, NULL)) != -1) {
		int k = cli_common_opt(&c, opt, optarg, "status");

		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		if (opt == OPT_HELP) {
			printf("usage: stswatch status [-c FILE] [--db FILE] [--format text|json] [DOMAIN...]\n"
			       "Show, from the database alone (no network), every configured domain (or\n"
			       "the ones named): its status and since when, mode, TXT id, fails_at, the\n"
			       "last check and the open findings. Exit status: the worst status (0-3).\n");
			rc = EXIT_OK;
			goto out;
		}
		fprintf(stderr, "usage: stswatch status [-c FILE] [--db FILE] [--format text|json] [DOMAIN...]\n");
		goto out;
	}
	st = open_db(&c, &cfg, false, STORE_READ, "status");
	if (!st)
		goto out;
	if (c.format == OUT_TEXT)
		vantage_note(st);
	names = json_array();
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			json_array_append_new(names, json_str(argv[i]));
	} else if (cfg.n_domains) {
		for (size_t i = 0; i < cfg.n_domains; i++)
			json_array_append_new(names, json_str(cfg.domains[i].name));
	} else {
		json_decref(names);
		if (store_domains(st, &names) < 0) {
			cli_error("status", "%s", store_error(st));
			goto out;
		}
	}
	for (size_t i = 0; names && i < json_array_size(names); i++) {
		const char *d = json_string_value(json_array_get(names, i));
		json_t *o;

		if (store_domain_status(st, d, &o) < 0) {
			cli_error("status", "%s", store_error(st));
			goto out;
		}
		if (!o) {
			o = json_object();
			json_object_set_new(o, "domain", json_str(d));
			json_object_set_new(o, "status", json_string("UNKNOWN"));
			json_object_set_new(o, "checked_at", json_null());
			json_object_set_new(o, "note", json_string("never checked"));
			json_object_set_new(o, "findings", json_array());
		}
		/* a silence holds the domain's notifications: say so where its state is shown */
		if (add_silences(st, d, now, o) < 0) {
			cli_error("status", "%s", store_error(st));
			json_decref(o);
			goto out;
		}
		summary_add(&sum, (enum status)status_parse(jstr(o, "status")), d);
		if (c.format == OUT_JSON)
			output_json_line(stdout, o);
		else if (!json_object_get(o, "note"))
			status_text(o, d, now);
		else
			printf("%-32s never checked\n", d);
		json_decref(o);
	}
	if (c.format == OUT_TEXT)
		output_text_summary(stdout, &sum);
	rc = cli_exit_for(sum.worst);
out:
	json_decref(names);
	summary_free(&sum);
	store_close(st);
	config_free(&cfg);
	return rc;
}

static void history_text(json_t *h)
{
	json_t *a;

	printf("%s: history%s%s\n", jstr(h, "domain"), json_is_string(json_object_get(h, "since")) ?
	       " since " : "", json_is_string(json_object_get(h, "since")) ? jstr(h, "since") : "");
	a = json_object_get(h, "txt_ids");
	printf("\nTXT ids\n");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);

		printf("  %-32s first %s  last %s\n", jstr(o, "txt_id"), jstr(o, "first_seen"),
		       jstr(o, "last_seen"));
	}
	a = json_object_get(h, "policy_versions");
	printf("\npolicy versions\n");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i), *mx = json_object_get(o, "mx");

		printf("  sha256 %.16s  id %-20s %-7s max_age %-8lld first %s  last %s%s%s\n    mx:",
		       jstr(o, "sha256"), jstr(o, "txt_id"), jstr(o, "mode"),
		       (long long)json_integer_value(json_object_get(o, "max_age")),
		       jstr(o, "first_seen"), jstr(o, "last_seen"),
		       json_is_string(json_object_get(o, "replaced_at")) ? "  replaced " : "",
		       json_is_string(json_object_get(o, "replaced_at")) ? jstr(o, "replaced_at") : "");
		for (size_t k = 0; k < json_array_size(mx); k++)
			printf(" %s", json_string_value(json_array_get(mx, k)));
		putchar('\n');
	}
	a = json_object_get(h, "certificates");
	printf("\ncertificates\n");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);

		printf("  %-40s %.16s  notAfter %s  first %s  last %s\n", jstr(o, "subject"),
		       jstr(o, "sha256"), jstr(o, "not_after"), jstr(o, "first_seen"),
		       jstr(o, "last_seen"));
	}
	a = json_object_get(h, "status_changes");
	printf("\nstatus changes\n");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);

		printf("  %s  %s -> %s\n", jstr(o, "at"), jstr(o, "old_status"), jstr(o, "new_status"));
	}
	a = json_object_get(h, "findings");
	printf("\nfindings\n");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);

		printf("  %-8s %-22s %-40s opened %s  %s %s\n", jstr(o, "severity"), jstr(o, "code"),
		       jstr(o, "subject"), jstr(o, "opened_at"),
		       json_is_string(json_object_get(o, "closed_at")) ? "closed" : "open, last seen",
		       json_is_string(json_object_get(o, "closed_at")) ? jstr(o, "closed_at") :
		       jstr(o, "last_seen"));
	}
}

int cmd_history(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct config cfg;
	struct store *st = NULL;
	time_t since = 0;
	json_t *h = NULL;
	char *domain = NULL;
	int opt, rc = 1;

	config_defaults(&cfg);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:f:h", longopts, NULL)) != -1) {
		int k = cli_common_opt(&c, opt, optarg, "history");

		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		switch (opt) {
		case OPT_SINCE:
			if (time_parse(optarg, &since) < 0) {
				cli_error("history", "--since: \"%s\" is not YYYY-MM-DD or "
					  "YYYY-MM-DDTHH:MM:SSZ", optarg);
				goto out;
			}
			break;
		case OPT_HELP:
			printf("usage: stswatch history DOMAIN [--since DATE] [--format text|json] [--db FILE]\n"
			       "Show what the database remembers of DOMAIN: TXT ids, policy versions (hash,\n"
			       "mode, max_age, mx, the id they were served under, first and last seen),\n"
			       "certificates per host, status changes, findings opened and closed.\n");
			rc = 0;
			goto out;
		default:
			goto out;
		}
	}
	if (optind + 1 != argc) {
		cli_error("history", "name one domain");
		goto out;
	}
	domain = xstrdup(argv[optind]);
	ascii_lower(domain);
	st = open_db(&c, &cfg, false, STORE_READ, "history");
	if (!st)
		goto out;
	if (store_domain_history(st, domain, since, &h) < 0) {
		cli_error("history", "%s", store_error(st));
		goto out;
	}
	if (!json_array_size(json_object_get(h, "status_changes"))) {
		cli_error("history", "%s is not in the database %s", domain, cfg.database);
		goto out;
	}
	if (c.format == OUT_JSON)
		output_json_line(stdout, h);
	else
		history_text(h);
	rc = 0;
out:
	json_decref(h);
	free(domain);
	store_close(st);
	config_free(&cfg);
	return rc;
}

int cmd_db(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct config cfg;
	struct store *st = NULL;
	char report[4096];
	int opt, rc = 1;
	const char *what;

	config_defaults(&cfg);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (cli_common_opt(&c, opt, optarg, "db") > 0)
			continue;
		printf("usage: stswatch db check|prune [-c FILE] [--db FILE]\n"
		       "check: PRAGMA integrity_check, foreign keys and the schema version.\n"
		       "prune: delete rows older than retention_days now (runs also do it).\n");
		rc = opt == OPT_HELP ? 0 : 1;
		goto out;
	}
	if (optind + 1 != argc) {
		cli_error("db", "say check or prune");
		goto out;
	}
	what = argv[optind];
	if (strcmp(what, "check") == 0) {
		st = open_db(&c, &cfg, false, STORE_READ, "db");
		if (!st)
			goto out;
		rc = store_check(st, report, sizeof(report)) == 0 ? 0 : 1;
		printf("%s: %s", cfg.database, report);
	} else if (strcmp(what, "prune") == 0) {
		long n = 0;

		st = open_db(&c, &cfg, false, STORE_WRITE, "db");
		if (!st)
			goto out;
		if (store_prune(st, cfg.retention_days, time(NULL), &n) < 0) {
			cli_error("db", "%s", store_error(st));
			goto out;
		}
		printf("%s: %ld rows older than %u days deleted\n", cfg.database, n, cfg.retention_days);
		rc = 0;
	} else {
		cli_error("db", "unknown action \"%s\" (check, prune)", what);
	}
out:
	store_close(st);
	config_free(&cfg);
	return rc;
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct config cfg;
	struct store *st = NULL;
	struct metrics_agent ag = { 0 };
	struct dynbuf out;
	int opt, rc = 1;

	config_defaults(&cfg);
	dynbuf_init(&out, 0);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (cli_common_opt(&c, opt, optarg, "metrics") > 0)
			continue;
		printf("usage: stswatch metrics [-c FILE] [--db FILE]\n"
		       "Print the Prometheus metrics of the configured domains (every domain of the\n"
		       "database when there is no configuration) to standard output, the same text\n"
		       "the daemon and run --once write to metrics_file.\n");
		rc = opt == OPT_HELP ? 0 : 1;
		goto out;
	}
	if (optind != argc) {
		cli_error("metrics", "unexpected argument \"%s\"", argv[optind]);
		goto out;
	}
	st = open_db(&c, &cfg, false, STORE_READ, "metrics");
	if (!st)
		goto out;
	/* the configuration's domains, as metrics_file; without one, every domain recorded */
	if (metrics_render(st, cfg.path ? &cfg : NULL, &ag, &out) < 0) {
		cli_error("metrics", "%s", store_error(st));
		goto out;
	}
	fputs(out.buf ? out.buf : "", stdout);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	dynbuf_free(&out);
	store_close(st);
	config_free(&cfg);
	return rc;
}
