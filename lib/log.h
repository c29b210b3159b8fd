/* log: leveled messages to standard error or syslog. */
#ifndef STSWATCH_LOG_H
#define STSWATCH_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "defs.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARNING,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Choose the level and the sink (syslog for the daemon, stderr otherwise). */
void log_init(enum log_level level, bool to_syslog);
/*
 * Prefix each line on standard error with its syslog priority ("<3>" ... "<7>", as
 * journald reads a service's output) instead of "stswatch: level:".
 */
void log_journal_prefix(bool on);
/*
 * Whether value, JOURNAL_STREAM as systemd sets it ("device:inode" of the stream, both
 * decimal), names the stream of dev and ino; false for NULL and for anything malformed.
 */
bool log_journal_stream_matches(const char *value, uint64_t dev, uint64_t ino);
/*
 * Whether standard error is the journal's stream: JOURNAL_STREAM names it (systemd's
 * rule), so the prefixes go where journald reads them and not into a file stderr was
 * redirected to by a shell that inherited the variable.
 */
bool log_stderr_is_journal(void);
/* Current level, so costly debug output can be skipped. */
enum log_level log_level(void);
/* Parse "error", "warning", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *s);
/* Write one message if level is enabled. */
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Close syslog if it was opened. */
void log_close(void);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
