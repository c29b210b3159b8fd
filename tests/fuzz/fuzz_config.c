/*
 * libFuzzer target: a configuration file of arbitrary bytes, read by config_load as stswatch
 * reads /etc/stswatch/stswatch.conf. Either it loads and every value is inside the bounds
 * config.c enforces, or the error is one printable line that names the file.
 *
 * Huge tokens (issue 11: libconfig's reading of a file is quadratic in a token's length):
 * an input that begins with 0xff is the rest repeated up to HUGE_BYTES, so a comment, a
 * string or a number of max_len bytes becomes one of 256 KiB; -timeout catches a
 * reading that is slow again, and the seeds huge_* start each kind of token.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent/config.h"
#include "checks/dnsname.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 (Debian 12) leaks the string tokens that a syntax error makes it drop
 * (libconfig issue #142, fixed in 1.7). Not ours to fix, and a process reads its
 * configuration once. Only memory allocated inside libconfig is excused: config.c copies
 * what it keeps, so a leak of ours still fails the run.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* A failed invariant says which, then aborts: libFuzzer keeps the input. */
#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define HUGE_BYTES (256 * 1024)

static int fd = -1;
static char path[64];	/* the file as config_load sees it: /proc/self/fd/N */
static uint8_t *huge;	/* the repeated input */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* an anonymous file: nothing is left behind, whatever ends the run */
	fd = memfd_create("stswatch.conf", MFD_CLOEXEC);
	if (fd < 0) {
		perror("fuzz_config: memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void check_judge(const struct judge_opts *o)
{
	CHECK(o->warn_days >= 0 && o->warn_days <= 3650);
	CHECK(o->crit_days >= 0 && o->crit_days <= o->warn_days);
	CHECK(o->warn_frac >= 0 && o->warn_frac <= 1);
	CHECK(o->crit_frac >= 0 && o->crit_frac <= 1);
	CHECK(o->slow_ms >= 1 && o->slow_ms <= 600000);
}

static void check_string(const char *s)
{
	CHECK(!s || s[0]);
}

static void check_loaded(const struct config *cfg)
{
	char why[256];

	CHECK(cfg->path && strcmp(cfg->path, path) == 0);
	CHECK(cfg->concurrency >= 1 && cfg->concurrency <= 10000);
	CHECK(cfg->interval >= 5 && cfg->interval <= 30 * 86400);
	CHECK(cfg->retention_days >= 1 && cfg->retention_days <= 36500);
	CHECK(cfg->to.dns_tries >= 1 && cfg->to.dns_tries <= 10);
	CHECK(cfg->to.dns_ms >= 50 && cfg->to.dns_ms <= 600000);
	CHECK(cfg->to.policy_ms >= 50 && cfg->to.policy_ms <= 600000);
	CHECK(cfg->to.smtp_connect_ms >= 50 && cfg->to.smtp_connect_ms <= 600000);
	CHECK(cfg->to.smtp_step_ms >= 50 && cfg->to.smtp_step_ms <= 600000);
	check_judge(&cfg->judge);
	CHECK(cfg->database);
	check_string(cfg->database);
	check_string(cfg->ca_file);
	check_string(cfg->resolver);
	CHECK(!cfg->resolver || config_resolver_valid(cfg->resolver, why, sizeof(why)) == 0);
	CHECK(!cfg->ehlo_name || dns_name_valid(cfg->ehlo_name));
	CHECK(cfg->n_domains <= CONFIG_MAX_DOMAINS && cfg->n_domains <= cfg->cap_domains);
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct domain_conf *d = &cfg->domains[i];
		size_t len = strlen(d->name);

		/* a name with at least two labels, as compared: lower case, no root dot */
		CHECK(dns_name_valid(d->name) && strchr(d->name, '.') && d->name[len - 1] != '.');
		for (size_t j = 0; j < len; j++)
			CHECK(!(d->name[j] >= 'A' && d->name[j] <= 'Z'));
		/* each name once, and found by the index */
		CHECK(config_find_domain(cfg, d->name) == d);
		CHECK(d->interval >= 5 && d->interval <= 30 * 86400);
		CHECK(d->line >= 1);
		check_judge(&d->judge);
	}
}

static void check_error(const char *err, size_t size)
{
	size_t n = strnlen(err, size);

	CHECK(n > 0 && n < size);
	CHECK(strstr(err, path));
	/* one line, shown as it is to whoever runs the command */
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)err[i] >= 0x20 && (unsigned char)err[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];
	int rc;

	if (size > 1 && data[0] == 0xff) {
		size_t n = 0;

		if (!huge && !(huge = malloc(HUGE_BYTES)))
			abort();
		for (data++, size--; n + size <= HUGE_BYTES; n += size)
			memcpy(huge + n, data, size);
		data = huge;
		size = n;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	config_defaults(&cfg);
	memset(err, 0, sizeof(err));
	rc = config_load(&cfg, path, err, sizeof(err));
	if (rc == 0)
		check_loaded(&cfg);
	else {
		CHECK(rc == -1);
		check_error(err, sizeof(err));
	}
	config_free(&cfg);
	return 0;
}
