/* libFuzzer target: arbitrary bytes -> cJSON_ParseWithLength ->
 * metrics_render() and metrics_ready() (lib/metrics.c). Beyond not
 * crashing: the exposition must pass the strict line check of
 * tests/unit/promlines.h (each line a HELP/TYPE comment or NAME{LABELS}
 * VALUE, families contiguous), metrics_ready() must return -1, 0 or 1 with
 * culprits that parse as a JSON array, empty exactly when it returns 1 or
 * -1 (no shutting_down culprit without services). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "metrics.h"
#include "promlines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	struct host_stats h = { .have = HOST_LOAD | HOST_FS, .load = { 0.5, 1e300, 0 }, .fs_size = ~0ULL };
	struct jbuf b = { 0 }, c = { 0 };
	char why[256];
	if (metrics_render(&b, j, size & 1 ? &h : NULL, "v\"1\n", "x86_64") != 0 || !b.p ||
		!prom_lines_ok(b.p, why, sizeof why)) {
		fprintf(stderr, "bad exposition: %s\n", why);
		abort();
	}
	int r = metrics_ready(j, &c);
	cJSON *cj = c.p ? cJSON_Parse(c.p) : NULL;
	if (r < -1 || r > 1 || c.oom || !cJSON_IsArray(cj) || (cJSON_GetArraySize(cj) == 0) != (r != 0))
		abort();
	cJSON_Delete(cj);
	cJSON_Delete(j);
	jb_free(&b);
	jb_free(&c);
	return 0;
}
