/* ctl_fmt.c: JSON accessors, human durations and times, tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctl.h"

const char *js_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int js_num(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v))
		return 0;
	*out = v->valuedouble;
	return 1;
}

int js_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

cJSON *js_arr(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsArray(v) ? v : NULL;
}

char *fmt_uptime(int64_t s, char *buf, size_t sz)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, sz, "%ds", (int)s);
	else if (s < 3600)
		snprintf(buf, sz, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else if (s < 86400)
		snprintf(buf, sz, "%dh%02dm", (int)(s / 3600), (int)(s % 3600 / 60));
	else
		snprintf(buf, sz, "%lldd%02dh", (long long)(s / 86400), (int)(s % 86400 / 3600));
	return buf;
}

char *fmt_uptime_ms(int64_t ms, char *buf, size_t sz)
{
	if (ms < 0)
		ms = 0;
	if (ms < 60000) {
		snprintf(buf, sz, "%.1fs", ms / 1000.0);
		return buf;
	}
	return fmt_uptime(ms / 1000, buf, sz);
}

double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

char *fmt_clock(double epoch_s, int date, char *buf, size_t sz)
{
	time_t t = (time_t)epoch_s, now = time(NULL);
	struct tm tm, today;
	if (!localtime_r(&t, &tm) || !localtime_r(&now, &today)) {
		snprintf(buf, sz, "%.0f", epoch_s);
		return buf;
	}
	if (!date && tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(buf, sz, "%H:%M:%S", &tm);
	else
		strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

void table_init(struct table *t, int ncols, const char *const *header)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	table_row(t, header);
}

void table_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, (size_t)cap * t->ncols * sizeof *c);
		if (!c)
			return; /* out of memory: the row is left out */
		t->cells = c;
		t->cap = cap;
	}
	char **row = t->cells + (size_t)t->nrows * t->ncols;
	for (int i = 0; i < t->ncols; i++)
		row[i] = strdup(cells[i] ? cells[i] : "-");
	t->nrows++;
}

void table_print(const struct table *t, FILE *f)
{
	int w[32] = { 0 };
	int nc = t->ncols > 32 ? 32 : t->ncols;
	for (int r = 0; r < t->nrows; r++)
		for (int i = 0; i < nc; i++) {
			const char *s = t->cells[(size_t)r * t->ncols + i];
			int n = s ? (int)strlen(s) : 1;
			if (n > w[i])
				w[i] = n;
		}
	for (int r = 0; r < t->nrows; r++) {
		char **row = t->cells + (size_t)r * t->ncols;
		/* trailing empty cells: no padding before them */
		int last = nc - 1;
		while (last > 0 && row[last] && !*row[last])
			last--;
		for (int i = 0; i <= last; i++) {
			const char *s = row[i] ? row[i] : "-";
			if (i == last)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", w[i], s);
		}
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < (size_t)t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}
