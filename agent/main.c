/* main: command dispatch, library set-up and tear-down. */
#include <ares.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

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
		"usage: stswatch [--log-level LEVEL] [--tls-keylog FILE] COMMAND [options]\n"
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
		"\"stswatch COMMAND --help\" describes a command; man stswatch(1), stswatch.conf(5).\n"
		"--tls-keylog FILE (debugging only) appends the TLS session keys of the policy\n"
		"fetches and STARTTLS probes to FILE (mode 0600); SSLKEYLOGFILE is ignored.\n");
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
		if (strcmp(argv[i], "--tls-keylog") == 0 && i + 1 < argc) {
			i += 2;	/* set up by tls_keylog before the libraries start */
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

/*
 * SSLKEYLOGFILE makes libcurl write every TLS session key to that file, created
 * world-readable: it is ignored (unset before libcurl starts) unless --tls-keylog FILE,
 * among the options before the command, asks for it; FILE is then made (or kept) 0600,
 * owned by this user, and given to libcurl and the STARTTLS probe. -1 when FILE cannot be.
 */
static int tls_keylog(int argc, char **argv)
{
	const char *file = NULL;
	struct stat st;
	int fd;

	unsetenv("SSLKEYLOGFILE");
	if (strcmp(basename(argv[0]), "check_mta_sts") == 0)
		return 0;	/* the plugin's options are its own */
	for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--tls-keylog") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--log-level") == 0)
			i++;
	}
	if (!file)
		return 0;
	fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    fchmod(fd, 0600) < 0) {
		fprintf(stderr, "stswatch: --tls-keylog: %s must be a regular file of this user "
			"that can be made mode 0600%s%s\n", file, fd < 0 ? ": " : "",
			fd < 0 ? strerror(errno) : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	fprintf(stderr, "stswatch: --tls-keylog: writing TLS session keys to %s; whoever reads "
		"it can decrypt those sessions\n", file);
	return setenv("SSLKEYLOGFILE", file, 1);
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
	if (tls_keylog(argc, argv) < 0)
		return EXIT_UNKNOWN;
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
