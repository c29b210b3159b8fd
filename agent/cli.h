/* cli: options shared by the commands, and how they override the configuration. */
#ifndef STSWATCH_CLI_H
#define STSWATCH_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "config.h"
#include "output.h"
#include "lib/defs.h"

/* Exit codes of the commands that judge (the Monitoring Plugins contract). */
#define EXIT_OK 0
#define EXIT_WARNING 1
#define EXIT_CRITICAL 2
#define EXIT_UNKNOWN 3	/* also usage and configuration errors */

/* Long-option values for the shared options; commands use values below 256 for their own. */
enum {
	OPT_CONFIG = 'c',
	OPT_FORMAT = 'f',
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_RESOLVER = 1000,
	OPT_CA_FILE,
	OPT_CONCURRENCY,
	OPT_DB,
	OPT_DOMAINS_FILE,
};

struct cli_common {
	const char *config;	/* -c FILE */
	const char *resolver;
	const char *ca_file;
	const char *db;
	const char *domains_file;
	long concurrency;	/* 0: from the configuration */
	enum output_format format;
	int verbose;
};

/*
 * Handle a shared option; returns 1 when opt was one, 0 when not, -1 on a bad value (the
 * message is printed, naming the option).
 */
int cli_common_opt(struct cli_common *c, int opt, const char *arg, const char *cmd);
/*
 * Load the configuration: -c FILE, or the default file when it exists (required is true
 * when the command cannot work without one), then apply the command-line overrides.
 * Prints the error and returns -1 on failure.
 */
int cli_load_config(struct config *cfg, const struct cli_common *c, bool required);
/* Print "stswatch CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Map a status to the exit code. */
int cli_exit_for(enum status st);

#endif
