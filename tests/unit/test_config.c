/* Unit tests of the configuration: values, defaults, and errors that name file and line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/domlist.h"
#include "checks/dnsname.h"
#include "checks/findings.h"

static char path[64];

static const char *write_file(const char *text)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/stswatch-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_full(void **state)
{
	struct config cfg;
	char err[512] = "";
	const struct domain_conf *d;

	(void)state;
	config_defaults(&cfg);
	write_file("resolver = \"10.53.0.1:5353,[fd53::1]:53\";\n"
		   "ca_file = \"/etc/ssl/certs/ca-certificates.crt\";\n"
		   "database = \"/tmp/x.db\";\n"
		   "concurrency = 50;\n"
		   "ipv6 = false;\n"
		   "interval = \"2h\";\n"
		   "timeouts = { dns = \"1500ms\"; dns_tries = 3; policy = 20; smtp_connect = 5; smtp_step = \"10s\"; };\n"
		   "thresholds = { warning_days = 30; critical_days = 10.5; policy_slow = \"3s\"; };\n"
		   "domains = ( \"Example.ORG.\", { name = \"example.net\"; interval = 600;\n"
		   "  thresholds = { warning_days = 40; tlsrpt = false; }; }, \"example.org\" );\n");
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_string_equal(cfg.resolver, "10.53.0.1:5353,[fd53::1]:53");
	assert_int_equal(cfg.concurrency, 50);
	assert_false(cfg.ipv6);
	assert_int_equal(cfg.interval, 7200);
	assert_int_equal(cfg.to.dns_ms, 1500);
	assert_int_equal(cfg.to.dns_tries, 3);
	assert_int_equal(cfg.to.policy_ms, 20000);
	assert_int_equal(cfg.to.smtp_step_ms, 10000);
	assert_int_equal(cfg.judge.slow_ms, 3000);
	assert_true(cfg.judge.crit_days == 10.5);
	/* a domain listed twice (any case, trailing dot) is one domain */
	assert_int_equal(cfg.n_domains, 2);
	d = config_find_domain(&cfg, "example.org");
	assert_non_null(d);
	assert_int_equal(d->interval, 7200);
	assert_true(d->judge.warn_days == 30);	/* inherits the global thresholds */
	d = config_find_domain(&cfg, "EXAMPLE.net");
	assert_non_null(d);
	assert_int_equal(d->interval, 600);
	assert_true(d->judge.warn_days == 40);
	assert_true(d->judge.crit_days == 10.5);
	assert_false(d->judge.tlsrpt);
	assert_int_equal(d->line, 9);
	config_free(&cfg);
}

struct bad {
	const char *text;
	const char *want;	/* substring of the error: file:line: setting: why */
};

static const struct bad bads[] = {
	{ "concurency = 5;\n", ":1: concurency: unknown setting" },
	{ "\n\nconcurrency = \"many\";\n", ":3: concurrency: expected a number" },
	{ "concurrency = 0;\n", ":1: concurrency: 0 is out of range" },
	{ "resolver = \"not-an-ip\";\n", ":1: resolver: \"not-an-ip\" is not an IPv4 or IPv6" },
	{ "resolver = \"10.0.0.1:99999\";\n", "is not a port number" },
	{ "timeouts = { dns = \"fast\"; };\n", ":1: dns: not a duration" },
	{ "timeouts = { dsn = 1; };\n", ":1: dsn: unknown setting" },
	{ "thresholds = { warning_days = 5; critical_days = 9; };\n",
	  "critical_days (9) is above warning_days (5)" },
	{ "domains = ( \"not a domain\" );\n", ":1: domains: \"not a domain\" is not a domain" },
	{ "domains = ( { interval = 60; } );\n", "entry without name" },
	{ "domains = ( { name = \"a.example\"; colour = 1; } );\n", ":1: colour: unknown domain setting" },
	{ "domains = ( \"a.example\" ;\n", ":1: syntax error" },
	{ "ipv6 = 1;\n", ":1: ipv6: expected true or false" },
	/* found by fuzz_config, or beside what it found: */
	{ "interval = 25E2700;\n", ":1: interval: inf s is out of range" },	/* was UB */
	{ "domains = ( \"org.\" );\n", ":1: domains: \"org.\" is not a domain" },	/* was "org" */
	{ "domains = ( \"e..\" );\n", ":1: domains: \"e..\" is not a domain" },	/* was "e." */
	{ "ehlo_name = \"mail.example.org..\";\n", ":1: ehlo_name: not a host name" },
	{ "resolver = \"\\x01bad\";\n", ":1: resolver: \"\\x01bad\" is not an IPv4" },	/* was raw */
	/* its milliseconds pass 2^64 and wrapped to 60.384 s, which was accepted */
	{ "interval = 18446744073709612L;\n", ":1: interval: 1.845e+16 s is out of range" },
	{ "timeouts = { dns = \"nan\"; };\n", ":1: dns: not a duration" },	/* strtod takes it */
	{ "timeouts = { dns = \"infs\"; };\n", ":1: dns: not a duration" },
	{ "interval = \"soon\";\n", ":1: interval: not a duration" },
	{ "retention_days = 0;\n", ":1: retention_days: 0 is out of range" },
	{ "thresholds = { policy_slow = 1e300; };\n", ":1: policy_slow: 1e+300 s is out of range" },
	/* receivers, routes, alerts */
	{ "notify = [ \"ops\" ];\n", ":1: notify: \"ops\" is not a receiver" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\"; url = \"https://h.example/x\";\n"
	  "  secret = \"whsec_abc\"; } );\n", ":2: secret: secrets are not written in the configuration" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\";\n url = \"https://h.example/x\";\n"
	  "  secret_file = \"/nonexistent/ops.secret\"; } );\n",
	  ":3: secret_file: /nonexistent/ops.secret: cannot read" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\"; url = \"ftp://h.example/x\"; } );\n",
	  ":1: the scheme must be https or http" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\"; url = \"https:// bad\"; } );\n",
	  ":1: not a URL" },
	{ "receivers = ( { name = \"m\"; type = \"email\"; url = \"https://h.example\";\n"
	  "  from = \"a@b.example\"; to = [ \"c@d.example\" ]; } );\n", ":1: the scheme must be smtp or smtps" },
	{ "receivers = ( { name = \"m\"; type = \"email\"; url = \"smtp://h.example:587\";\n"
	  "  from = \"a@b.example\"; } );\n", ":1: an email receiver needs from and to" },
	{ "receivers = ( { name = \"m\"; type = \"email\"; url = \"smtp://h.example:587\";\n"
	  "  from = \"a@b.example\\r\\nBcc: x@y.example\"; to = [ \"c@d.example\" ]; } );\n",
	  ":2: from: not a mail address" },
	{ "receivers = ( { name = \"m\"; type = \"email\"; url = \"smtp://h.example:587\";\n"
	  "  from = \"a@b.example\"; to = [ \"c@d.example\" ]; username = \"u\"; } );\n",
	  ":1: username without password_file" },
	{ "receivers = ( { name = \"ops\"; type = \"pager\"; url = \"https://h.example/x\"; } );\n",
	  ":1: type: unknown type" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\"; url = \"https://h.example/x\"; },\n"
	  "  { name = \"ops\"; type = \"slack\"; url = \"https://h.example/y\"; } );\n",
	  ":2: two receivers have this name" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\"; url = \"https://h.example/x\";\n"
	  "  digest = \"25:00\"; } );\n", ":2: digest: expected a local time" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\"; url = \"https://h.example/x\";\n"
	  "  timezone = \"Mars/Olympus\"; } );\n", ":2: timezone: not a time zone" },
	{ "receivers = ( { name = \"ops\"; type = \"webhook\"; url = \"https://h.example/x\";\n"
	  "  headers = [ \"X-Bad Header: 1\" ]; } );\n", ":2: headers: expected \"Name: value\"" },
	{ "receivers = ( { name = \"ops\"; type = \"slack\"; url = \"https://h.example/x\";\n"
	  "  colour = \"red\"; } );\n", ":2: colour: unknown receiver setting" },
	{ "receivers = ( { name = \"ops\"; type = \"slack\"; url = \"https://h.example/x\";\n"
	  "  min_severity = \"OK\"; } );\n", ":2: min_severity: expected" },
	{ "alerts = { confirm = 0; };\n", ":1: confirm: 0 is out of range" },
	{ "alerts = { operator = \"nobody\"; };\n", ":1: operator: not a receiver" },
	{ "alerts = { max_pending = \"1s\"; };\n", ":1: max_pending: 1.000 s is out of range" },
	{ "domains = ( { name = \"a.example\"; notify = [ \"ghost\" ]; } );\n",
	  ":1: notify: \"ghost\" is not a receiver" },
	{ "groups = ( { name = \"g\"; notify = [ \"ghost\" ]; domains = ( \"a.example\" ); } );\n",
	  ":1: notify: \"ghost\" is not a receiver" },
	{ "groups = ( { name = \"g\"; colour = 1; } );\n", ":1: colour: unknown group setting" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct config cfg;
		char err[512] = "";

		config_defaults(&cfg);
		write_file(bads[i].text);
		assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
		if (!strstr(err, bads[i].want) || !strstr(err, path))
			fail_msg("config \"%s\": error \"%s\" lacks \"%s\" or the path", bads[i].text,
				 err, bads[i].want);
		/* a setting that fails keeps its value (it took an unset variable) */
		assert_int_equal(cfg.concurrency, 500);
		assert_int_equal(cfg.interval, 3600);
		assert_int_equal(cfg.retention_days, 400);
		/* what the file says is quoted as printable text */
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				fail_msg("config \"%s\": error \"%s\" is not printable", bads[i].text, err);
		unlink(path);
		config_free(&cfg);
	}
}

static void write_named(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Receivers, their secrets from files, routes per domain, group and default. */
static void test_receivers(void **state)
{
	struct config cfg;
	char err[512] = "", dir[] = "/tmp/stswatch-rcv-XXXXXX", conf[128], sec[128], pw[128];
	const struct receiver_conf *r;
	const struct domain_conf *d;
	const struct route *rt;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/stswatch.conf", dir);
	snprintf(sec, sizeof(sec), "%s/ops.secret", dir);
	snprintf(pw, sizeof(pw), "%s/smtp.pass", dir);
	write_named(sec, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
	write_named(pw, "hunter2\n");
	write_named(conf,
		    "receivers = (\n"
		    "  { name = \"ops\"; type = \"webhook\"; url = \"https://hooks.example.net/stswatch\";\n"
		    "    secret_file = \"ops.secret\"; headers = [ \"X-Team: mail\" ]; },\n"
		    "  { name = \"mail\"; type = \"email\"; url = \"smtp://smtp.example.net:587\";\n"
		    "    from = \"stswatch@example.net\"; to = [ \"postmaster@example.org\", \"b@example.org\" ];\n"
		    "    username = \"stswatch\"; password_file = \"smtp.pass\"; digest = \"08:30\";\n"
		    "    timezone = \"UTC\"; min_severity = \"CRITICAL\"; },\n"
		    "  { name = \"chat\"; type = \"slack\"; url = \"https://hooks.slack.example/T/B/x\"; timeout = \"5s\"; },\n"
		    "  { name = \"am\"; type = \"alertmanager\"; url = \"http://127.0.0.1:9093\"; }\n"
		    ");\n"
		    "notify = [ \"ops\", \"mail\", \"ops\" ];\n"
		    "alerts = { confirm = 3; remind = [ 10, 2 ]; repeat_interval = \"12h\"; operator = \"ops\"; };\n"
		    "groups = ( { name = \"acme\"; notify = [ \"chat\" ]; interval = \"30m\";\n"
		    "             domains = ( \"acme.example\", { name = \"own.example\"; notify = [ \"am\" ]; } ); } );\n"
		    "domains = ( \"plain.example\", { name = \"quiet.example\"; notify = [ ]; } );\n");
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_receivers, 4);
	r = config_find_receiver(&cfg, "ops");
	assert_non_null(r);
	assert_string_equal(r->secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");	/* newline gone */
	assert_string_equal(r->secret_source, sec);
	assert_int_equal(r->n_headers, 1);
	assert_int_equal(r->timeout_ms, 15000);
	r = config_find_receiver(&cfg, "mail");
	assert_string_equal(r->password, "hunter2");
	assert_int_equal(r->n_to, 2);
	assert_int_equal(r->digest_min, 8 * 60 + 30);
	assert_int_equal(r->min_status, STATUS_CRITICAL);
	assert_int_equal(config_find_receiver(&cfg, "chat")->timeout_ms, 5000);
	assert_int_equal(cfg.route.n, 2);	/* duplicates dropped */
	assert_int_equal(cfg.alerts.confirm, 3);
	assert_int_equal(cfg.alerts.n_remind, 2);
	assert_int_equal(cfg.alerts.repeat_interval, 12 * 3600);
	assert_int_equal(cfg.alerts.operator_receiver, 0);
	assert_int_equal(cfg.alerts.max_pending, 3 * 86400);	/* default */

	d = config_find_domain(&cfg, "acme.example");
	rt = config_domain_route(&cfg, d);
	assert_int_equal(rt->n, 1);
	assert_string_equal(cfg.receivers[rt->idx[0]].name, "chat");
	assert_int_equal(d->interval, 1800);
	d = config_find_domain(&cfg, "own.example");
	rt = config_domain_route(&cfg, d);
	assert_int_equal(rt->n, 1);
	assert_string_equal(cfg.receivers[rt->idx[0]].name, "am");
	assert_int_equal(d->interval, 1800);	/* the group's, with its own route */
	d = config_find_domain(&cfg, "plain.example");
	rt = config_domain_route(&cfg, d);
	assert_int_equal(rt->n, 2);
	assert_int_equal(d->interval, 3600);
	rt = config_domain_route(&cfg, config_find_domain(&cfg, "quiet.example"));
	assert_int_equal(rt->n, 0);	/* notify = [] silences a domain on purpose */
	config_free(&cfg);

	/* a systemd credential wins over a file beside the configuration */
	{
		char creds[160], cred[200];

		snprintf(creds, sizeof(creds), "%s/creds", dir);
		assert_int_equal(mkdir(creds, 0700), 0);
		snprintf(cred, sizeof(cred), "%s/ops.secret", creds);
		write_named(cred, "whsec_Y3JlZGVudGlhbA==");
		setenv("CREDENTIALS_DIRECTORY", creds, 1);
		config_defaults(&cfg);
		assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
		assert_string_equal(config_find_receiver(&cfg, "ops")->secret, "whsec_Y3JlZGVudGlhbA==");
		config_free(&cfg);
		unsetenv("CREDENTIALS_DIRECTORY");
		unlink(cred);
		rmdir(creds);
	}
	/* the secret never appears in an error */
	write_named(sec, "whsec_\x01secretvalue\n");
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "control characters"));
	assert_null(strstr(err, "secretvalue"));
	config_free(&cfg);
	unlink(sec);
	unlink(pw);
	unlink(conf);
	rmdir(dir);
}

/* One label and the root dot is not a domain, from any source. */
static void test_single_label(void **state)
{
	struct config cfg;
	char err[256] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_add_domain(&cfg, "org.", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"org.\" is not a domain name"));
	assert_int_equal(config_add_domain(&cfg, "org", err, sizeof(err)), -1);
	assert_int_equal(config_add_domain(&cfg, "example.org.", err, sizeof(err)), 0);
	assert_non_null(config_find_domain(&cfg, "example.org"));
	assert_int_equal(cfg.n_domains, 1);
	config_free(&cfg);
}

static void test_missing_file(void **state)
{
	struct config cfg;
	char err[512];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/stswatch.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/stswatch.conf: cannot read"));
	config_free(&cfg);
}

/* Read a domains file through domlist: the names, or the error that ended it. */
static size_t read_list(const char *p, char names[][64], size_t max, char *err, size_t len)
{
	struct domlist *dl = domlist_open(p, err, len);
	const char *name;
	size_t n = 0;

	assert_non_null(dl);
	while ((name = domlist_next(dl)) && n < max)
		snprintf(names[n++], 64, "%s", name);
	snprintf(err, len, "%s", domlist_error(dl) ? domlist_error(dl) : "");
	domlist_close(dl);
	return n;
}

static void test_domains_file(void **state)
{
	char err[512] = "", names[8][64], bad[64];
	struct domlist *dl;
	size_t count;

	(void)state;
	write_file("# comment\n\nExample.ORG.\n  example.net   # trailing comment\r\nlast.example");
	assert_int_equal(read_list(path, names, 8, err, sizeof(err)), 3);
	assert_string_equal(err, "");
	assert_string_equal(names[0], "example.org");
	assert_string_equal(names[1], "example.net");
	assert_string_equal(names[2], "last.example");	/* no newline at the end */
	/* validated first: counted, then read again from the start */
	dl = domlist_open(path, err, sizeof(err));
	assert_int_equal(domlist_validate(dl, &count, err, sizeof(err)), 1);
	assert_int_equal(count, 3);
	assert_string_equal(domlist_next(dl), "example.org");
	domlist_close(dl);
	unlink(path);

	/* issue 11: a bad line is named by number and reason, never by its content (a file
	 * that is no domain list, /etc/shadow, must not be printed) */
	write_file("ok.example\nroot:$y$j9T$secret:19000:0:99999:7:::\n");
	strcpy(bad, path);
	assert_int_equal(read_list(path, names, 8, err, sizeof(err)), 1);
	assert_non_null(strstr(err, ":2: not a domain name: a byte that is not a letter"));
	assert_null(strstr(err, "root"));
	assert_null(strstr(err, "secret"));
	dl = domlist_open(bad, err, sizeof(err));
	assert_int_equal(domlist_validate(dl, &count, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: not a domain name"));
	assert_null(strstr(err, "secret"));
	domlist_close(dl);
	unlink(bad);

	/* issue 11: "ok.test\0evil.test" read as ok.test: a NUL byte refuses the line */
	write_file("");
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fwrite("first.example\nok.test\0evil.test\n", 1, 32, f);
		fclose(f);
	}
	assert_int_equal(read_list(path, names, 8, err, sizeof(err)), 1);
	assert_non_null(strstr(err, ":2: a NUL byte in the line"));
	assert_null(strstr(err, "evil"));
	unlink(path);

	/* an IP address, an all-digit top-level label, a line too long */
	write_file("1.2.3.4\n");
	read_list(path, names, 8, err, sizeof(err));
	assert_non_null(strstr(err, ":1: not a domain name: an IPv4 address"));
	unlink(path);
	write_file("\n\nexample.123\n");
	read_list(path, names, 8, err, sizeof(err));
	assert_non_null(strstr(err, ":3: not a domain name: its last label is all digits"));
	unlink(path);
	{
		char longline[1100];

		memset(longline, 'a', sizeof(longline) - 2);
		longline[sizeof(longline) - 2] = '\n';
		longline[sizeof(longline) - 1] = '\0';
		write_file(longline);
	}
	read_list(path, names, 8, err, sizeof(err));
	assert_non_null(strstr(err, ":1: line longer than 1022 bytes"));
	unlink(path);
}

/* issue 11: "1.2.3.4" was accepted as a mail domain. */
static void test_mail_domain_why(void **state)
{
	static const struct {
		const char *name;
		const char *why;	/* NULL: a mail domain */
	} rows[] = {
		{ "example.org", NULL },
		{ "Example.ORG.", NULL },
		{ "xn--bcher-kva.example", NULL },
		{ "_dmarc.example.org", NULL },
		{ "1.2.3.4", "an IPv4 address" },
		{ "1.2.3.4.", "all digits" },
		{ "192.168.1.300", "all digits" },	/* not an address either: no digit TLD */
		{ "example.123", "all digits" },
		{ "123.example", NULL },		/* a digit label elsewhere is fine */
		{ "::1", "an IPv6 address" },
		{ "2001:db8::1", "an IPv6 address" },
		{ "org", "one label only" },
		{ "org.", "one label only" },
		{ "e..", "an empty label" },
		{ ".example.org", "an empty label" },
		{ "a..b", "an empty label" },
		{ "-a.example", "begins with '-'" },
		{ "a-.example", "ends with '-'" },
		{ "example.org-", "ends with '-'" },
		{ "not a domain", "a byte that is not" },
		{ "a|b.example", "a byte that is not" },
		{ "", "empty" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *why = mail_domain_why(rows[i].name);

		if (!rows[i].why ? why != NULL : (!why || !strstr(why, rows[i].why)))
			fail_msg("\"%s\": got \"%s\", want \"%s\"", rows[i].name,
				 why ? why : "(valid)", rows[i].why ? rows[i].why : "(valid)");
		assert_true(mail_domain_valid(rows[i].name) == (rows[i].why == NULL));
		/* the words never quote the name */
		if (why && strlen(rows[i].name) > 3)
			assert_null(strstr(why, rows[i].name));
	}
}

/* issue 11: 0.0.0.0, 255.255.255.255 and 224.0.0.1 were accepted as resolvers. */
static void test_resolver_addresses(void **state)
{
	static const struct {
		const char *r;
		const char *why;	/* NULL: accepted */
	} rows[] = {
		{ "127.0.0.53", NULL },
		{ "10.53.0.1:5353,[fd53::1]:53", NULL },
		{ "::1", NULL },
		{ "0.0.0.0", "unspecified" },
		{ "0.1.2.3:53", "unspecified" },
		{ "255.255.255.255", "broadcast" },
		{ "224.0.0.1", "multicast" },
		{ "239.255.255.250:1900", "multicast" },
		{ "::", "unspecified" },
		{ "[::]:53", "unspecified" },
		{ "ff02::1", "multicast" },
		{ "::ffff:224.0.0.1", "multicast" },
		{ "127.0.0.1,0.0.0.0", "unspecified" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = config_resolver_valid(rows[i].r, err, sizeof(err));

		if (rows[i].why ? rc == 0 || !strstr(err, rows[i].why) : rc != 0)
			fail_msg("%s: rc %d \"%s\"", rows[i].r, rc, rc ? err : "");
	}
}

/*
 * issue 11: a file that is one huge comment or string kept libconfig busy for minutes (its
 * scanner is quadratic in a token's length). Files over CONFIG_MAX_BYTES are refused
 * before parsing, with the file and its size in the message; so is an endless stream and
 * a NUL byte, which would end libconfig's reading silently.
 */
static void test_size_limit(void **state)
{
	struct config cfg;
	char err[512] = "", want[128];
	struct timespec t0, t1;
	FILE *f;

	(void)state;
	config_defaults(&cfg);
	write_file("");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# ", f);
	for (long i = 2; i < CONFIG_MAX_BYTES; i++)
		fputc('x', f);
	fputs("\n", f);	/* one byte over the limit */
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(want, sizeof(want), "%s: %ld bytes, larger than the %ld", path,
		 CONFIG_MAX_BYTES + 1, CONFIG_MAX_BYTES);
	if (!strstr(err, want))
		fail_msg("%s", err);
	/* libconfig reads an @include itself: what it names counts too, nested as well */
	{
		char big[64], mid[64], text[160];

		strcpy(big, path);
		snprintf(text, sizeof(text), "@include \"%s\"\n", big);
		write_file(text);
		strcpy(mid, path);
		snprintf(text, sizeof(text), "concurrency = 7;\n  @include \"%s\"\n", mid);
		write_file(text);
		assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
		unlink(path);
		unlink(mid);
		unlink(big);
		snprintf(want, sizeof(want), "%s: %ld bytes, larger than the", big,
			 CONFIG_MAX_BYTES + 1);
		if (!strstr(err, want) || !strstr(err, "with the files it includes"))
			fail_msg("%s", err);
		/* a small one is read as before */
		write_file("interval = \"2h\";\n");
		strcpy(mid, path);
		snprintf(text, sizeof(text), "@include \"%s\"\nconcurrency = 7;\n", mid);
		write_file(text);
		assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
		unlink(path);
		unlink(mid);
		assert_int_equal(cfg.interval, 7200);
		assert_int_equal(cfg.concurrency, 7);
	}
	/* refused, not parsed: well under the seconds a 10 MB comment takes libconfig */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);

	/* a stream that never ends is read up to the limit, then refused */
	assert_int_equal(config_load(&cfg, "/dev/zero", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/dev/zero: more than the 10485760 bytes"));

	/* a NUL byte on line 2 */
	write_file("");
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("concurrency = 5;\ninterval = \"1h\";\0domains = ( \"x.org\" );\n", 1, 55, f);
	fclose(f);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	unlink(path);
	assert_non_null(strstr(err, ":2: a NUL byte (offset 33)"));
	assert_int_equal(cfg.n_domains, 0);
	config_free(&cfg);
}

/* Many domains: the name index keeps look-ups and de-duplication linear overall. */
static void test_many(void **state)
{
	struct config cfg;
	char err[128], name[64];

	(void)state;
	config_defaults(&cfg);
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "d%05d.example", i);
		assert_int_equal(config_add_domain(&cfg, name, err, sizeof(err)), 0);
	}
	assert_int_equal(config_add_domain(&cfg, "D00042.EXAMPLE", err, sizeof(err)), 0);
	assert_int_equal(cfg.n_domains, 20000);
	assert_non_null(config_find_domain(&cfg, "d19999.example"));
	assert_null(config_find_domain(&cfg, "d20000.example"));
	config_free(&cfg);
}

static void test_durations(void **state)
{
	unsigned s;

	(void)state;
	assert_int_equal(config_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(config_parse_duration("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(config_parse_duration("1d", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(config_parse_duration("1w", &s), -1);
	assert_int_equal(config_parse_duration("-5", &s), -1);
	assert_int_equal(config_parse_duration("", &s), -1);
	assert_int_equal(config_parse_duration("nan", &s), -1);
	assert_int_equal(config_parse_duration("inf", &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_receivers),
		cmocka_unit_test(test_single_label),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_domains_file),
		cmocka_unit_test(test_mail_domain_why),
		cmocka_unit_test(test_resolver_addresses),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
