/* cmd_config: "stswatch config check": validate a configuration file. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "lib/xalloc.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stswatch config check [-c FILE]\n"
		"Read the configuration (default " CONFIG_DEFAULT_PATH ") and report every error\n"
		"with its file, line and setting. Exit status 0 when valid, 1 when not.\n");
}

int cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	const char *path = CONFIG_DEFAULT_PATH;
	char err[512];
	int opt, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			path = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "check") != 0 || optind + 1 != argc) {
		usage(stderr);
		return 1;
	}
	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (cfg.ca_file && access(cfg.ca_file, R_OK) < 0) {
		fprintf(stderr, "%s: ca_file: %s cannot be read\n", path, cfg.ca_file);
		goto out;
	}
	{
		char *copy = xstrdup(cfg.database);
		const char *dir = dirname(copy);
		bool ok = access(dir, W_OK) == 0;

		if (!ok)
			printf("%s: note: the database directory %s is not writable by this user "
			       "(the run command creates it when it can)\n", path, dir);
		free(copy);
	}
	printf("%s: valid: %zu domain%s, resolver %s, CA %s, database %s\n", path, cfg.n_domains,
	       cfg.n_domains == 1 ? "" : "s", cfg.resolver ? cfg.resolver : "from /etc/resolv.conf",
	       cfg.ca_file ? cfg.ca_file : "system bundle", cfg.database);
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}
