/* main: command dispatch, library set-up and tear-down. */
#include <ares.h>
#include <curl/curl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "commands.h"
#include "lib/defs.h"
#include "lib/log.h"

#ifndef STSWATCH_VERSION
#define STSWATCH_VERSION "dev"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stswatch [--log-level LEVEL] COMMAND [options]\n"
		"Watch MTA-STS deployments (RFC 8461) and say when and why compliant senders will\n"
		"refuse mail.\n"
		"\n"
		"commands:\n"
		"  check     probe and judge domains now; print the verdicts\n"
		"  run       check the due domains and record them (run --once, for a timer)\n"
		"  status    the recorded state of every domain, from the database alone\n"
		"  history   the recorded timeline of one domain\n"
		"  db        database maintenance (db check, db prune)\n"
		"  lint      validate a policy file or TXT record before publishing it\n"
		"  config    validate the configuration (config check)\n"
		"  alerts    the outbox, the alert history and silences\n"
		"  metrics   the Prometheus metrics of the recorded domains\n"
		"  plugin    the Nagios/Icinga plugin, also installed as check_mta_sts\n"
		"  version   print the version\n"
		"\n"
		"\"stswatch COMMAND --help\" describes a command; man stswatch(1), stswatch.conf(5).\n");
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "check", cmd_check },
	{ "run", cmd_run },
	{ "status", cmd_status },
	{ "history", cmd_history },
	{ "db", cmd_db },
	{ "lint", cmd_lint },
	{ "config", cmd_config },
	{ "plugin", cmd_plugin },
	{ "alerts", cmd_alerts },
	{ "metrics", cmd_metrics },
};

static int dispatch(int argc, char **argv)
{
	const char *prog = basename(argv[0]);
	int i = 1;

	if (strcmp(prog, "check_mta_sts") == 0)
		return cmd_plugin(argc, argv);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("stswatch %s\n", STSWATCH_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
			int lvl = log_level_parse(argv[i + 1]);

			if (lvl < 0) {
				fprintf(stderr, "stswatch: --log-level: \"%s\" is not error, warning, "
					"info or debug\n", argv[i + 1]);
				return EXIT_UNKNOWN;
			}
			log_init((enum log_level)lvl, false);
			i += 2;
			continue;
		}
		fprintf(stderr, "stswatch: unknown option %s\n", argv[i]);
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	if (strcmp(argv[i], "version") == 0) {
		printf("stswatch %s\n", STSWATCH_VERSION);
		return 0;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t k = 0; k < ARRAY_LEN(commands); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].fn(argc - i, argv + i);
	fprintf(stderr, "stswatch: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return EXIT_UNKNOWN;
}

/* Every domain in flight holds sockets: allow as many open files as the hard limit does. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	log_init(LOG_LVL_WARNING, false);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "stswatch: cannot initialise libcurl\n");
		return EXIT_UNKNOWN;
	}
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		fprintf(stderr, "stswatch: cannot initialise c-ares\n");
		curl_global_cleanup();
		return EXIT_UNKNOWN;
	}
	rc = dispatch(argc, argv);
	fflush(stdout);
	ares_library_cleanup();
	curl_global_cleanup();
	log_close();
	return rc;
}
