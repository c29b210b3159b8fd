/* log: leveled messages to standard error or syslog. */
#ifndef STSWATCH_LOG_H
#define STSWATCH_LOG_H

#include <stdbool.h>

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
