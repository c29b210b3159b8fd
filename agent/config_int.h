/* config_int: the libconfig helpers shared by config.c and config_alerts.c (not an API). */
#ifndef STSWATCH_CONFIG_INT_H
#define STSWATCH_CONFIG_INT_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* "FILE:LINE: setting: what" into err; returns -1. */
int config_set_err(char *err, size_t errlen, const config_setting_t *s, const char *path,
		   const char *what);
/* A duration (integer seconds, float, or "90s", "15m"...) in milliseconds within [lo, hi]. */
int config_get_duration_ms(const config_setting_t *s, const char *path, uint64_t lo,
			   uint64_t hi, uint64_t *out, char *err, size_t errlen);
/* A number within [lo, hi]. */
int config_get_number(const config_setting_t *s, const char *path, double lo, double hi,
		      double *out, char *err, size_t errlen);
/* A non-empty string (replaces *out). */
int config_get_string(const config_setting_t *s, const char *path, char **out, char *err,
		      size_t errlen);
/* true or false. */
int config_get_bool(const config_setting_t *s, const char *path, bool *out, char *err,
		    size_t errlen);

/* receivers = ( ... ); parsed into cfg->receivers (config_alerts.c). */
int config_load_receivers(struct config *cfg, const config_setting_t *list, const char *path,
			  char *err, size_t errlen);
/* alerts = { ... }; into cfg->alerts. */
int config_load_alerts(struct config *cfg, const config_setting_t *g, const char *path,
		       char *err, size_t errlen);
/* notify = [ "name", ... ] into a route; every name must be a receiver. */
int config_load_route(const struct config *cfg, const config_setting_t *s, const char *path,
		      struct route *out, char *err, size_t errlen);
/* Free the receivers, routes and alert settings. */
void config_free_alerts(struct config *cfg);

#endif
