/* nagios: Monitoring Plugins output: threshold ranges, perfdata, sanitized text, 8 KiB cut. */
#ifndef STSWATCH_NAGIOS_H
#define STSWATCH_NAGIOS_H

#include <stdbool.h>
#include <stddef.h>

#include "checks/findings.h"
#include "lib/dynbuf.h"

/*
 * Everything here is pure: no I/O, no clock, no locale (numbers are read and written with
 * '.' whatever LC_NUMERIC says). The contract is the Monitoring Plugins Development
 * Guidelines (plugin output, performance data, thresholds and ranges).
 */

#define NAGIOS_OUTPUT_MAX 8192	/* bytes of plugin output Nagios keeps; pass to render */
#define NAGIOS_RANGE_STRLEN 96	/* enough for nagios_range_str() of any parsed range */

/*
 * A threshold range. Outside mode (the default) alerts when v < start or v > end; inside
 * mode ('@') alerts when start <= v <= end. An infinite end is written '~' (start) or left
 * empty (end).
 */
struct nagios_range {
	double start, end;
	bool start_inf;	/* "~:" : no lower bound */
	bool end_inf;	/* "N:" : no upper bound */
	bool inside;	/* '@': alert inside the range */
};

/*
 * Parse a -w/-c argument: N, N:, ~:N, N:M, @N:M (also @N, @N:, @~:N), decimals and
 * negatives, at most 15 significant digits, no exponents, no spaces. A bare N means 0:N as
 * the guidelines say, or N: ("fewer than N left", as check_http -C) when bare_is_min.
 * On error err reads '"abc" is not a number or a range (...)'; the caller prefixes "-w: ".
 */
int nagios_range_parse(const char *s, bool bare_is_min, struct nagios_range *r, char *err,
		       size_t errlen);
/* Should v raise the alert this range describes? NaN always alerts. */
bool nagios_range_alert(const struct nagios_range *r, double v);
/*
 * The range in canonical guidelines syntax: "21:", "~:10", "0:10", "@10:20", "@~:0".
 * Both bounds are always written around the ':', so the text means the same whether it is
 * read back with bare_is_min or not. Fits in NAGIOS_RANGE_STRLEN.
 */
void nagios_range_str(const struct nagios_range *r, char *buf, size_t len);

/* One performance data item; warn/crit NULL for none. A NaN value is written 'U'. */
struct nagios_perf {
	const char *label;
	double value;
	const char *uom;	/* NULL or "", s, ms, us, %, B, KB, MB, TB, c (no unit for days) */
	const struct nagios_range *warn, *crit;
	bool has_min, has_max;
	double min, max;
};

/*
 * Append "label=value[UOM];[warn];[crit];[min];[max]" to sb, after one space when sb is
 * not empty; trailing empty fields are left off. The label is quoted ('a b'=1, a quote
 * doubled) only when it holds a space, '=' or '\''; control bytes and '|' in a label become
 * '_'. Returns -1 (sb unchanged) for an empty label, an unknown UOM, or sb's maximum.
 */
int nagios_perf_append(struct dynbuf *sb, const struct nagios_perf *p);

/*
 * Make text safe for $SERVICEOUTPUT$/$LONGSERVICEOUTPUT$ in place, so Nagios'
 * illegal_macro_output_chars (` ~ $ & | ' " < >) have nothing to strip: '|' -> '/',
 * '<' -> '(', '>' -> ')', '~' -> '-', '&' -> '+', and ' " ` $ are removed. Control bytes
 * other than '\n' become ' ', bytes that are not valid UTF-8 become '?'; '\n' is kept
 * for long text (the first line must not contain one; render turns it into ' ').
 */
void nagios_sanitize(char *s);

/*
 * The whole plugin output "first_line | perfdata\nlong_text" (no " | " when perfdata is
 * empty or NULL, no "\n" when long_text is). The result's strlen is at most max_bytes - 1,
 * leaving room for the one '\n' the caller writes after it. When too long, long_text is
 * cut at a line boundary and ends "... (N more lines cut)"; when the first line and
 * perfdata alone are too long, perfdata items go whole from the end, then the first line
 * is cut (ending "..."), never inside a UTF-8 sequence. As a last guard a '\n' in the first
 * line or perfdata becomes ' ' and a '|' in first line or long text becomes '/'.
 * The caller frees the result.
 */
char *nagios_render(const char *first_line, const char *perfdata, const char *long_text,
		    size_t max_bytes);

#define NAGIOS_FIRST_LINE_MAX 240	/* bytes of the first line a status view shows */

/*
 * The plugin's first line: "MTA-STS STATUS - DOMAIN: code subject: what (evidence)" for
 * the first finding that is not INFO (findings are sorted worst first), then " (+N more)"
 * when there are more, or "MTA-STS STATUS - DOMAIN: summary" when there is none. The
 * headline is cut to fit NAGIOS_FIRST_LINE_MAX bytes ("..."), keeping the count, never
 * inside a UTF-8 sequence; the line is sanitized. The caller frees the result.
 */
char *nagios_first_line(const char *domain, enum status st, const struct findings *fs,
			const char *summary);

/* The plugin exit code of a status: OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3 (and anything else). */
int nagios_exit_code(enum status st);

/*
 * The MX part of an all-clear first line: "V of N MX hosts valid", and " (P probed)" when
 * fewer than the n_total hosts of the answer were probed.
 */
void nagios_mx_summary(struct dynbuf *sb, unsigned valid, size_t n_total, size_t n_probed);

#endif
