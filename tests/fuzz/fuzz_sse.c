/* fuzz_sse: SSE framing (lib/sse.c) and Last-Event-ID parsing on any
 * bytes. Input: [type bytes] 0x00 [data bytes] (no 0x00: all data). The
 * frame is parsed back as the HTML standard's event stream parser does it
 * (lines split at CRLF, LF, CR; "field: value"; an empty line dispatches)
 * and must give exactly one event with the same id, the cleaned type and
 * the data with its line ends made "\n". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sse.h"

static void check(int c)
{
	if (!c)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	const char *p = (const char *)in;
	const char *z = memchr(p, 0, n);
	char type[SSE_MAX_TYPE + 1];
	size_t tl = z ? (size_t)(z - p) : 0;
	if (tl > SSE_MAX_TYPE)
		tl = SSE_MAX_TYPE;
	memcpy(type, p, tl);
	type[tl] = 0; /* may hold any byte but NUL */
	const char *data = z ? z + 1 : p;
	size_t dl = z ? n - (size_t)(z + 1 - p) : n;
	uint64_t id = n ? in[0] * 1000003u + n : 0;

	/* Last-Event-ID on the raw data (NUL-terminated copy) */
	char *s = malloc(dl + 1);
	check(s != NULL);
	memcpy(s, data, dl);
	s[dl] = 0;
	uint64_t v;
	if (sse_last_id(s, &v)) {
		char back[32];
		snprintf(back, sizeof back, "%llu", (unsigned long long)v);
		/* leading zeros aside, the number reads back the same */
		const char *q = s;
		while (*q == '0' && q[1])
			q++;
		check(!strcmp(back, q));
	}
	free(s);

	struct jbuf b = { 0 };
	sse_frame(&b, id, type, data, dl);
	if (b.oom) {
		jb_free(&b);
		return 0;
	}
	/* parse it back */
	char *got = malloc(b.len + 1), *gtype = malloc(b.len + 1);
	size_t glen = 0;
	uint64_t gid = 0;
	int events = 0, seen_data = 0;
	gtype[0] = 0;
	check(got && gtype);
	for (size_t i = 0; i < b.len;) {
		size_t j = i;
		while (j < b.len && b.p[j] != '\n' && b.p[j] != '\r')
			j++;
		check(j < b.len); /* every line ends */
		const char *l = b.p + i;
		size_t ll = j - i;
		if (ll == 0) {
			events++;
		} else {
			const char *colon = memchr(l, ':', ll);
			check(colon != NULL);
			size_t fl = (size_t)(colon - l);
			const char *val = colon + 1;
			size_t vl = ll - fl - 1;
			if (vl && *val == ' ')
				val++, vl--;
			if (fl == 4 && !memcmp(l, "data", 4)) {
				if (seen_data)
					got[glen++] = '\n';
				memcpy(got + glen, val, vl);
				glen += vl;
				seen_data = 1;
			} else if (fl == 5 && !memcmp(l, "event", 5)) {
				memcpy(gtype, val, vl);
				gtype[vl] = 0;
			} else if (fl == 2 && !memcmp(l, "id", 2)) {
				char t[32];
				check(vl < sizeof t);
				memcpy(t, val, vl);
				t[vl] = 0;
				check(sse_last_id(t, &gid));
			} else {
				check(0);
			}
		}
		if (b.p[j] == '\r' && j + 1 < b.len && b.p[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	check(events == 1);
	check(gid == id);
	/* the data with every line end made "\n" */
	size_t k = 0;
	for (size_t i = 0; i < dl; i++) {
		char c = data[i];
		if (c == '\r') {
			if (i + 1 < dl && data[i + 1] == '\n')
				i++;
			c = '\n';
		}
		check(k < glen && got[k] == c);
		k++;
	}
	check(k == glen);
	/* the type: printable ASCII kept, the rest '_' */
	check(strlen(gtype) == tl);
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)type[i];
		check(gtype[i] == (c > ' ' && c < 0x7f ? (char)c : '_'));
	}
	free(got);
	free(gtype);
	jb_free(&b);
	return 0;
}
