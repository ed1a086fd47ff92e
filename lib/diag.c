#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diag.h"

const char *diag_severity_name(enum diag_severity s)
{
	return s == DIAG_ERROR ? "error" : "warning";
}

void diag_add(struct diags *d, enum diag_severity sev, const char *file,
	      int line, int col, const char *key, const char *fmt, ...)
{
	if (sev == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= DIAG_MAX) {
		d->truncated = 1;
		return;
	}
	if (d->n == d->cap) {
		int ncap = d->cap ? d->cap * 2 : 16;
		struct diag *nv = realloc(d->v, ncap * sizeof *nv);
		if (!nv)
			return;
		d->v = nv;
		d->cap = ncap;
	}
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	struct diag *x = &d->v[d->n];
	x->file = file ? strdup(file) : NULL;
	x->key = key ? strdup(key) : NULL;
	x->msg = strdup(buf);
	if (!x->msg || (file && !x->file) || (key && !x->key)) {
		free(x->file);
		free(x->key);
		free(x->msg);
		return;
	}
	x->line = line;
	x->col = col;
	x->sev = sev;
	d->n++;
}

/* Stable sort by file (in order of first appearance), line, col.
 * Insertion sort: n <= DIAG_MAX and the input is nearly sorted. */
void diag_sort(struct diags *d)
{
	const char **files = malloc((d->n + 1) * sizeof *files);
	int *rank = malloc((d->n + 1) * sizeof *rank);
	int nf = 0;
	if (!files || !rank)
		goto out;
	for (int i = 0; i < d->n; i++) {
		const char *f = d->v[i].file ? d->v[i].file : "";
		int j;
		for (j = 0; j < nf && strcmp(files[j], f); j++)
			;
		if (j == nf)
			files[nf++] = f;
		rank[i] = j;
	}
	for (int i = 1; i < d->n; i++) {
		struct diag x = d->v[i];
		int r = rank[i], j = i - 1;
		while (j >= 0 && (rank[j] > r || (rank[j] == r &&
		       (d->v[j].line > x.line || (d->v[j].line == x.line && d->v[j].col > x.col))))) {
			d->v[j + 1] = d->v[j];
			rank[j + 1] = rank[j];
			j--;
		}
		d->v[j + 1] = x;
		rank[j + 1] = r;
	}
out:
	free(files);
	free(rank);
}

void diags_free(struct diags *d)
{
	for (int i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].key);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

char *diag_format(const struct diag *x, char *buf, size_t sz)
{
	const char *sev = diag_severity_name(x->sev);
	if (!x->file)
		snprintf(buf, sz, "mls: %s: %s", sev, x->msg);
	else if (x->line <= 0)
		snprintf(buf, sz, "%s: %s: %s", x->file, sev, x->msg);
	else if (x->col <= 0)
		snprintf(buf, sz, "%s:%d: %s: %s", x->file, x->line, sev, x->msg);
	else
		snprintf(buf, sz, "%s:%d:%d: %s: %s", x->file, x->line, x->col, sev, x->msg);
	return buf;
}
