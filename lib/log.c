/* log: leveled messages to standard error or syslog. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "defs.h"
#include "str.h"

static enum log_level cur_level = LOG_LVL_WARNING;
static bool use_syslog;
static bool journal_prefix;

void log_init(enum log_level level, bool to_syslog)
{
	cur_level = level;
	if (to_syslog && !use_syslog)
		openlog("stswatch", LOG_PID, LOG_DAEMON);
	use_syslog = to_syslog;
}

void log_journal_prefix(bool on)
{
	journal_prefix = on;
}

/* A decimal number at *p: digits only, no sign or space, no overflow; *p moves past it. */
static int parse_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*v = n;
	*p = s;
	return 0;
}

bool log_journal_stream_matches(const char *value, uint64_t dev, uint64_t ino)
{
	uint64_t vdev, vino;

	if (!value || parse_u64(&value, &vdev) < 0 || *value++ != ':' ||
	    parse_u64(&value, &vino) < 0 || *value)
		return false;
	return vdev == dev && vino == ino;
}

bool log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	struct stat st;

	if (!v || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return log_journal_stream_matches(v, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

enum log_level log_level(void)
{
	return cur_level;
}

int log_level_parse(const char *s)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (ascii_strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char buf[2048];
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (use_syslog)
		syslog(prio[level], "%s", buf);
	else if (journal_prefix)
		fprintf(stderr, "<%d>%s\n", prio[level], buf);
	else
		fprintf(stderr, "stswatch: %s: %s\n", tag[level], buf);
}

void log_close(void)
{
	if (use_syslog)
		closelog();
	use_syslog = false;
}
