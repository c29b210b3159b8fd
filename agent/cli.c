/* cli: options shared by the commands, and how they override the configuration. */
#include "cli.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


void cli_error(const char *cmd, const char *fmt, ...)
{
	char msg[2048], line[4096];
	va_list ap;

	/* what the user gave (an option's value, a path) may hold control bytes: one line */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	controls_escape(line, sizeof(line), msg, NULL);
	fprintf(stderr, "stswatch %s: %s\n", cmd, line);
}

int cli_exit_for(enum status st)
{
	return (int)st;
}

int cli_common_opt(struct cli_common *c, int opt, const char *arg, const char *cmd)
{
	char err[256];
	int fmt;

	switch (opt) {
	case OPT_CONFIG:
		c->config = arg;
		return 1;
	case OPT_FORMAT:
		fmt = output_format_parse(arg);
		if (fmt < 0) {
			cli_error(cmd, "--format: \"%s\" is not text or json", arg);
			return -1;
		}
		c->format = (enum output_format)fmt;
		return 1;
	case OPT_VERBOSE:
		c->verbose++;
		return 1;
	case OPT_RESOLVER:
		if (config_resolver_valid(arg, err, sizeof(err)) < 0) {
			cli_error(cmd, "--resolver: %s", err);
			return -1;
		}
		c->resolver = arg;
		return 1;
	case OPT_CA_FILE:
		if (access(arg, R_OK) < 0) {
			cli_error(cmd, "--ca-file: %s: cannot read it: %s", arg, strerror(errno));
			return -1;
		}
		c->ca_file = arg;
		return 1;
	case OPT_CONCURRENCY:
		if (parse_long(arg, 1, 10000, &c->concurrency) < 0) {
			cli_error(cmd, "--concurrency: \"%s\" is not a number from 1 to 10000", arg);
			return -1;
		}
		return 1;
	case OPT_DB:
		c->db = arg;
		return 1;
	case OPT_DOMAINS_FILE:
		c->domains_file = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_load_config(struct config *cfg, const struct cli_common *c, bool required)
{
	char err[512];
	const char *path = c->config;

	if (!path && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (!path && required) {
		fprintf(stderr, "stswatch: no configuration: %s does not exist; give one with -c FILE\n",
			CONFIG_DEFAULT_PATH);
		return -1;
	}
	if (path && config_load(cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "stswatch: %s\n", err);
		return -1;
	}
	if (c->resolver) {
		free(cfg->resolver);
		cfg->resolver = xstrdup(c->resolver);
	}
	if (c->ca_file) {
		free(cfg->ca_file);
		cfg->ca_file = xstrdup(c->ca_file);
	}
	if (c->db) {
		free(cfg->database);
		cfg->database = xstrdup(c->db);
	}
	if (c->concurrency)
		cfg->concurrency = (unsigned)c->concurrency;
	return 0;
}
