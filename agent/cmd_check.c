/* cmd_check: "stswatch check": probe and judge domains now, print the verdicts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clients.h"
#include "commands.h"
#include "config.h"
#include "domlist.h"
#include "inorder.h"
#include "output.h"
#include "store.h"
#include "sweep.h"
#include "lib/log.h"
#include "lib/xalloc.h"

enum { OPT_QUIET = 'q', OPT_RECORD = 2000 };

struct check_run {
	const struct config *cfg;	/* thresholds of the configured domains */
	/* the domains: named ones (the arguments, or every configured domain), then those of
	 * --domains-file, read as the sweep has room for them */
	const char **names;
	size_t n_names;
	struct domlist *file;
	size_t n;		/* handed back so far */
	enum output_format format;
	int verbose;
	bool quiet;
	struct summary summary;
	bool write_failed;
	struct store *st;	/* history for the judge, when a database exists */
	bool record;
	int64_t run_id;
	size_t unrecorded;	/* --record: domains that could not be recorded (logged) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stswatch check [options] [DOMAIN...]\n"
		"Probe and judge the MTA-STS deployment of each domain now (DNS, policy fetch,\n"
		"STARTTLS on every MX address) and print the verdicts. Without domains, every\n"
		"domain of the configuration is checked.\n"
		"\n"
		"  -c, --config FILE         settings and domains (default " CONFIG_DEFAULT_PATH ")\n"
		"      --domains-file FILE   check the domains in FILE, one per line ('-': stdin)\n"
		"  -f, --format text|json    text (default) or one JSON object per domain per line\n"
		"      --resolver ADDR[:PORT][,...]  DNS resolver (default: /etc/resolv.conf)\n"
		"      --ca-file FILE        trusted CA certificates (default: the system's)\n"
		"      --concurrency N       domains in flight at once (default 500)\n"
		"      --db FILE             database (default: the configuration's); when it\n"
		"                            exists, its history feeds the sender-cache prediction\n"
		"      --record              also record the results in the database\n"
		"  -q, --quiet               text: print only domains that are not OK\n"
		"  -v, --verbose             text: also print notes and SMTP banners\n"
		"  -h, --help                this help\n"
		"\n"
		"Exit status: 0 all OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the worst domain), 3 also\n"
		"for usage and configuration errors.\n");
}

static const char *target_name(void *arg, size_t idx)
{
	struct check_run *r = arg;

	if (idx < r->n_names)
		return r->names[idx];
	return r->file ? domlist_next(r->file) : NULL;
}

static bool on_result(void *arg, size_t idx, struct domain_facts *df)
{
	struct check_run *r = arg;
	const struct domain_conf *d = config_find_domain(r->cfg, df->domain);
	struct verdict v;
	struct history h;
	time_t now = time(NULL);

	(void)idx;
	r->n++;
	memset(&h, 0, sizeof(h));
	if (r->st && store_load_history(r->st, df->domain, &h) < 0) {
		log_warning("%s (judging without history)", store_error(r->st));
		memset(&h, 0, sizeof(h));
	}
	/* a domain of the configuration has its thresholds, any other the global ones */
	judge_domain(d ? &d->judge : &r->cfg->judge, df, &h, now, &v);
	if (r->record) {
		json_t *report = output_json_domain(df, &v);

		/* one transaction per domain: one that fails costs no other its record */
		if (store_record(r->st, r->run_id, df, &v, report, NULL) < 0) {
			log_error("%s: --record: %s", df->domain, store_error(r->st));
			r->unrecorded++;
		}
		json_decref(report);
	}
	summary_add(&r->summary, v.status, df->domain);
	if (r->format == OUT_JSON) {
		json_t *j = output_json_domain(df, &v);

		if (output_json_line(stdout, j) < 0)
			r->write_failed = true;
		json_decref(j);
	} else if (!r->quiet || v.status != STATUS_OK) {
		output_text_domain(stdout, df, &v, now, r->verbose > 0);
	}
	fflush(stdout);
	verdict_free(&v);
	history_free(&h);
	return !r->write_failed;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "domains-file", required_argument, NULL, OPT_DOMAINS_FILE },
		{ "db", required_argument, NULL, OPT_DB },
		{ "record", no_argument, NULL, OPT_RECORD },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct config cfg, extra;
	struct check_run run = { 0 };
	size_t in_file = 0;
	int counted = 0;	/* the file was read through: in_file domains */
	struct clients_opts co;
	struct clients cl = { 0 };
	struct sweep_opts so;
	struct loop *lp = NULL;
	struct sweep *sw = NULL;
	char err[512];
	int opt, rc = EXIT_UNKNOWN;

	config_defaults(&cfg);
	config_defaults(&extra);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:f:vqh", longopts, NULL)) != -1) {
		int k = cli_common_opt(&c, opt, optarg, "check");

		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		switch (opt) {
		case OPT_QUIET:
			run.quiet = true;
			break;
		case OPT_RECORD:
			run.record = true;
			break;
		case OPT_HELP:
			usage(stdout);
			rc = EXIT_OK;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (cli_load_config(&cfg, &c, optind >= argc && !c.domains_file) < 0)
		goto out;
	extra.judge = cfg.judge;
	/* Domains named here are checked alone, with their configured thresholds if any. */
	for (int i = optind; i < argc; i++)
		if (config_add_domain(&extra, argv[i], err, sizeof(err)) < 0) {
			cli_error("check", "%s", err);
			goto out;
		}
	/* a file's bad line stops the command before anything is checked, when the file can
	 * be read twice; from a pipe it ends the list where it is (said at the end) */
	if (c.domains_file) {
		run.file = domlist_open(c.domains_file, err, sizeof(err));
		counted = run.file ? domlist_validate(run.file, &in_file, err, sizeof(err)) : -1;
		if (counted < 0) {
			cli_error("check", "%s", err);
			goto out;
		}
	}
	run.cfg = &cfg;
	{
		const struct config *from = optind >= argc && !c.domains_file ? &cfg : &extra;

		run.n_names = from->n_domains;
		run.names = xcalloc(run.n_names ? run.n_names : 1, sizeof(*run.names));
		for (size_t i = 0; i < run.n_names; i++)
			run.names[i] = from->domains[i].name;
	}
	if (!run.n_names && (!run.file || (counted && !in_file))) {
		cli_error("check", "no domains to check (name some, or list them in %s)",
			  cfg.path ? cfg.path : "the configuration");
		goto out;
	}
	run.format = c.format;
	run.verbose = c.verbose;
	if (run.record) {
		run.st = store_open(cfg.database, STORE_WRITE, err, sizeof(err));
		if (!run.st || store_run_start(run.st, "check", time(NULL), &run.run_id) < 0) {
			cli_error("check", "--record: %s", run.st ? store_error(run.st) : err);
			goto out;
		}
	} else if (access(cfg.database, R_OK) == 0) {
		/* read-only: the history sharpens the verdict, nothing is written */
		run.st = store_open(cfg.database, STORE_READ, err, sizeof(err));
		if (!run.st)
			log_warning("%s (checking without history)", err);
	}
	lp = loop_new(NULL);
	if (!lp) {
		cli_error("check", "cannot create the event loop");
		goto out;
	}
	clients_opts_from_config(&co, &cfg);
	if (clients_open(&cl, lp, &co, err, sizeof(err)) < 0) {
		cli_error("check", "%s", err);
		goto out;
	}
	sweep_opts_from_config(&so, &cfg);
	so.concurrency = sweep_concurrency_for_limit(so.concurrency);
	sw = sweep_new(lp, &cl, &so);
	if (inorder_run(lp, sw, run.file ? SIZE_MAX : run.n_names, target_name, on_result, &run,
			0) < 0) {
		cli_error("check", "event loop failed");
		goto out;
	}
	if (run.write_failed) {
		cli_error("check", "cannot write the output");
		goto out;
	}
	if (run.file && domlist_error(run.file)) {
		/* read from a stream: what came before the bad line was checked and printed */
		cli_error("check", "%s (the domains before it were checked)",
			  domlist_error(run.file));
		goto out;
	}
	if (!run.n) {
		cli_error("check", "no domains to check (%s lists none)", c.domains_file);
		goto out;
	}
	if (run.record && store_run_finish(run.st, run.run_id, time(NULL)) < 0)
		log_warning("--record: %s", store_error(run.st));
	if (run.unrecorded) {
		cli_error("check", "--record: %zu of %zu domains were not recorded (each is logged "
			  "above)", run.unrecorded, run.n);
		goto out;
	}
	if (run.format == OUT_TEXT)
		output_text_summary(stdout, &run.summary);
	rc = cli_exit_for(run.summary.worst);
out:
	sweep_free(sw);
	clients_close(&cl);
	loop_free(lp);
	store_close(run.st);
	summary_free(&run.summary);
	free(run.names);
	domlist_close(run.file);
	config_free(&extra);
	config_free(&cfg);
	return rc;
}
