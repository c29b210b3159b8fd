/*
 * daemon: "stswatch run", the scheduler daemon under systemd: every configured domain
 * checked at its interval, phases spread and kept across restarts, domains that turn bad
 * re-checked quickly, alerts delivered continuously, the configuration reloaded on SIGHUP,
 * a bounded stop on SIGTERM, sd_notify for READY, STATUS, WATCHDOG, RELOADING, STOPPING.
 */
#ifndef STSWATCH_DAEMON_H
#define STSWATCH_DAEMON_H

#include "cli.h"
#include "config.h"

/*
 * Run until SIGTERM or SIGINT. cfg is the configuration already loaded (the daemon takes
 * it over and frees it); config_path and c are what a reload reads again. The exit code:
 * 0 after a clean stop, 1 when it could not start.
 */
int daemon_run(struct config *cfg, const char *config_path, const struct cli_common *c);

#endif
