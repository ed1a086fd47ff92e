/* Diagnostics: what the config loader found, kept for the applet to print.
 * lib never prints; validate, supervise and reload format these the same
 * way, so their messages are identical. */
#ifndef MLS_DIAG_H
#define MLS_DIAG_H

#include <stddef.h>

#define DIAG_MAX 1000 /* kept; past it one "too many diagnostics" error */

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	char *file;      /* as given on the command line; NULL = no file */
	int line, col;   /* 1-based; 0 = none */
	enum diag_severity sev;
	char *key;       /* dotted path of the key, e.g. "services.web.port"; may be NULL */
	char *msg;
};

struct diags {
	struct diag *v;
	int n, cap;
	int errors, warnings;
	int io_error;    /* a file could not be opened or read (exit 2) */
	int truncated;   /* DIAG_MAX reached */
};

/* Add a diagnostic (printf-style message). Never fails visibly: on ENOMEM
 * the diagnostic is counted but not kept. */
void diag_add(struct diags *d, enum diag_severity sev, const char *file,
	      int line, int col, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Sort by file (order of first appearance), line, col; stable */
void diag_sort(struct diags *d);
void diags_free(struct diags *d);
const char *diag_severity_name(enum diag_severity s);
/* "FILE:LINE:COL: error: MESSAGE" (gcc style; parts without a value are
 * left out) into buf; returns buf. */
char *diag_format(const struct diag *x, char *buf, size_t sz);

#endif
