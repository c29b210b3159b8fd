/* domlist: a file of domain names, one per line, read as the sweep has room for them. */
#include "domlist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checks/dnsname.h"
#include "lib/str.h"
#include "lib/xalloc.h"

struct domlist {
	FILE *f;
	char *path;
	int line;
	bool failed;
	char line_buf[DOMLIST_LINE_MAX + 1];
	char error[512];
};

struct domlist *domlist_open(const char *path, char *err, size_t errlen)
{
	struct domlist *dl;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");

	if (!f) {
		bsnprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	dl = xcalloc(1, sizeof(*dl));
	dl->f = f;
	dl->path = xstrdup(path);
	return dl;
}

static void fail(struct domlist *dl, const char *what)
{
	char shown[300];

	/* the path is the user's, shown as printable text; the line's content never is */
	printable_copy(shown, sizeof(shown), dl->path, strlen(dl->path));
	bsnprintf(dl->error, sizeof(dl->error), "%s:%d: %s", shown, dl->line, what);
	dl->failed = true;
}

/*
 * One line into line_buf, without its newline; its length in *len. 0 at the end of the
 * file, 1 for a line, -1 (dl->error set) for a line too long or holding a NUL byte. Read
 * byte by byte so a NUL is seen and a file without newlines costs no memory.
 */
static int read_line(struct domlist *dl, size_t *len)
{
	size_t n = 0;
	bool nul = false, any = false;
	int c;

	while ((c = getc(dl->f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			nul = true;
		if (n >= DOMLIST_LINE_MAX - 2) {
			char what[64];

			dl->line++;
			bsnprintf(what, sizeof(what), "line longer than %d bytes",
				  DOMLIST_LINE_MAX - 2);
			fail(dl, what);
			return -1;
		}
		dl->line_buf[n++] = (char)c;
	}
	if (!any) {
		if (ferror(dl->f)) {
			char what[160];

			bsnprintf(what, sizeof(what), "read error: %s", strerror(errno));
			fail(dl, what);
			return -1;
		}
		return 0;
	}
	dl->line++;
	dl->line_buf[n] = '\0';
	if (nul) {
		/* "ok.test\0evil.test" would read as ok.test: the line is refused */
		fail(dl, "a NUL byte in the line: is this a list of domains?");
		return -1;
	}
	*len = n;
	return 1;
}

/* The name on one line, trimmed, or "" for a blank or comment line. */
static char *line_name(char *p)
{
	char *end;

	if ((end = strchr(p, '#')))
		*end = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return p;
}

const char *domlist_next(struct domlist *dl)
{
	size_t len;

	while (!dl->failed) {
		const char *why;
		char *name;
		int rc = read_line(dl, &len);

		if (rc <= 0)
			return NULL;
		name = line_name(dl->line_buf);
		if (!*name)
			continue;
		if ((why = mail_domain_why(name))) {
			char what[160];

			bsnprintf(what, sizeof(what), "not a domain name: %s", why);
			fail(dl, what);
			return NULL;
		}
		ascii_lower(name);
		len = strlen(name);
		if (name[len - 1] == '.')
			name[len - 1] = '\0';
		return name;
	}
	return NULL;
}

int domlist_validate(struct domlist *dl, size_t *count, char *err, size_t errlen)
{
	struct stat st;

	*count = 0;
	if (dl->f == stdin || fstat(fileno(dl->f), &st) < 0 || !S_ISREG(st.st_mode))
		return 0;	/* read once, as it comes */
	while (domlist_next(dl))
		(*count)++;
	if (dl->failed) {
		bsnprintf(err, errlen, "%s", dl->error);
		return -1;
	}
	if (fseek(dl->f, 0, SEEK_SET) < 0) {
		bsnprintf(err, errlen, "%s: cannot read it again: %s", dl->path, strerror(errno));
		return -1;
	}
	dl->line = 0;
	return 1;
}

const char *domlist_error(const struct domlist *dl)
{
	return dl->failed ? dl->error : NULL;
}

void domlist_close(struct domlist *dl)
{
	if (!dl)
		return;
	if (dl->f != stdin)
		fclose(dl->f);
	free(dl->path);
	free(dl);
}
