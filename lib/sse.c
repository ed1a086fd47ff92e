/* sse.c: Server-Sent Events framing (sse.h) */
#include "sse.h"

#include <stdio.h>
#include <string.h>

void sse_frame(struct jbuf *b, uint64_t id, const char *type, const char *data, size_t len)
{
	if (id)
		jb_printf(b, "id: %llu\n", (unsigned long long)id);
	if (type && *type) {
		char t[SSE_MAX_TYPE + 1];
		size_t n = 0;
		for (; type[n] && n < SSE_MAX_TYPE; n++) {
			unsigned char c = (unsigned char)type[n];
			t[n] = c > ' ' && c < 0x7f ? (char)c : '_';
		}
		t[n] = 0;
		jb_printf(b, "event: %s\n", t);
	}
	for (size_t i = 0;;) {
		size_t j = i;
		while (j < len && data[j] != '\n' && data[j] != '\r')
			j++;
		jb_raw(b, "data: ", 6);
		jb_raw(b, data + i, j - i);
		jb_raw(b, "\n", 1);
		if (j == len)
			break;
		if (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	jb_raw(b, "\n", 1);
}

int sse_last_id(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return 1;
}
