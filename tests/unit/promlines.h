/* promlines.h: a strict check of what metrics_render() writes, shared by
 * tests/unit/test_metrics.c and tests/fuzz/fuzz_metrics.c (header only).
 *
 * Accepts only the subset of the Prometheus text format 0.0.4 we write:
 * every line ends with "\n" and is "# HELP NAME TEXT", "# TYPE NAME
 * gauge|counter", or a sample "NAME{L="V",...} VALUE" / "NAME VALUE" whose
 * NAME is the last TYPE's (a family's lines are contiguous, each family
 * typed once before its samples, never again). Label values: valid UTF-8,
 * no raw newline, escapes only \\ \" \n. VALUE: NaN, +Inf, -Inf, or a
 * decimal number strtod() reads whole. No timestamps, no blank lines. */
#ifndef MLS_PROMLINES_H
#define MLS_PROMLINES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jbuf.h"

static inline size_t prom_name(const char *p, int colon)
{
	size_t n = 0;
	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' || (colon && p[n] == ':') ||
		(n && p[n] >= '0' && p[n] <= '9'))
		n++;
	return n;
}

/* 1 when the whole text passes; else 0 and why (with the line number) */
static inline int prom_lines_ok(const char *text, char *why, size_t whysz)
{
	char fam[256] = "", seen[64][128];
	int nseen = 0, ln = 0;
#define PL_BAD(msg) do { snprintf(why, whysz, "line %d: %s: %.80s", ln, msg, line); return 0; } while (0)
	for (const char *line = text, *nl; *line; line = nl + 1) {
		ln++;
		if (!(nl = strchr(line, '\n')))
			PL_BAD("no newline at the end");
		const char *p = line;
		size_t n;
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
			int type = p[2] == 'T';
			p += 7;
			if (!(n = prom_name(p, 1)) || p[n] != ' ' || n >= sizeof fam)
				PL_BAD("bad metric name in a comment");
			if (type) {
				const char *t = p + n + 1;
				if (!((nl - t == 5 && !strncmp(t, "gauge", 5)) || (nl - t == 7 && !strncmp(t, "counter", 7))))
					PL_BAD("bad type");
				memcpy(fam, p, n);
				fam[n] = 0;
				for (int k = 0; k < nseen; k++)
					if (!strcmp(seen[k], fam))
						PL_BAD("a family typed twice");
				if (nseen < 64 && n < sizeof seen[0])
					strcpy(seen[nseen++], fam);
			}
			continue;
		}
		if (!(n = prom_name(p, 1)))
			PL_BAD("not a comment or a sample");
		if (n != strlen(fam) || strncmp(p, fam, n))
			PL_BAD("a sample outside its family");
		p += n;
		if (*p == '{') {
			do {
				p++;
				if (!(n = prom_name(p, 0)) || p[n] != '=' || p[n + 1] != '"')
					PL_BAD("bad label name");
				for (p += n + 2; *p != '"'; ) {
					if (*p == '\n' || !*p)
						PL_BAD("unterminated label value");
					if (*p == '\\') {
						if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
							PL_BAD("bad escape");
						p += 2;
					} else {
						int l = jb_utf8_len((const unsigned char *)p, (size_t)(nl - p));
						if (!l)
							PL_BAD("not UTF-8");
						p += l;
					}
				}
				p++;
			} while (*p == ',');
			if (*p++ != '}')
				PL_BAD("labels not closed");
		}
		if (*p++ != ' ')
			PL_BAD("no blank before the value");
		n = (size_t)(nl - p);
		if (!((n == 3 && !strncmp(p, "NaN", 3)) || (n == 4 && (!strncmp(p, "+Inf", 4) || !strncmp(p, "-Inf", 4))))) {
			char *end;
			if (!n || strspn(p, "0123456789.eE+-") != n || (strtod(p, &end), end != nl))
				PL_BAD("bad value");
		}
	}
	return 1;
#undef PL_BAD
}

#endif
