/* libFuzzer target: `mls import autoexec` (lib/autoexec_import.c) on
 * arbitrary bytes, with checks:
 *  - the output is YAML that parses (lib/ytree), whatever the input;
 *  - it has services: with exactly the number of services reported, each
 *    name valid for mls (a-z0-9_-, starting with a letter or digit, at
 *    most 63) and unique, each with a git.url that is not ssh;
 *  - every line left out was reported (one message line each). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "autoexec_import.h"
#include "ytree.h"

static int name_ok(const struct ynode *k)
{
	if (k->type != Y_SCALAR || k->len == 0 || k->len > 63)
		return 0;
	if (!((k->s[0] >= 'a' && k->s[0] <= 'z') || (k->s[0] >= '0' && k->s[0] <= '9')))
		return 0;
	for (size_t i = 0; i < k->len; i++) {
		char c = k->s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *err = NULL;
	size_t olen = 0, elen = 0;
	FILE *fo = open_memstream(&out, &olen), *fe = open_memstream(&err, &elen);
	struct autoexec_stats st;
	if (!fo || !fe)
		abort();
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (autoexec_import(buf, size, "in\tfile", fo, fe, &st))
		abort();
	free(buf);
	fclose(fo);
	fclose(fe);

	size_t lines = 0;
	for (size_t i = 0; i < elen; i++)
		lines += err[i] == '\n';
	if (lines != (size_t)st.refused)
		abort();

	struct arena *a = arena_new();
	struct ynode *root = NULL;
	struct yerror ye;
	if (!a || ytree_parse(a, out, olen, 0, &root, &ye))
		abort();
	struct ynode *svcs = ymap_get(root, "services");
	if (!root || root->type != Y_MAP || root->n != 2 || !svcs || svcs->type != Y_MAP || svcs->n != 2 * st.services)
		abort();
	for (int i = 0; i < st.services; i++) {
		const struct ynode *k = svcs->kids[2 * i], *v = svcs->kids[2 * i + 1];
		if (!name_ok(k))
			abort();
		for (int j = 0; j < i; j++) {
			const struct ynode *o = svcs->kids[2 * j];
			if (o->len == k->len && !memcmp(o->s, k->s, k->len))
				abort();
		}
		const struct ynode *g = ymap_get(v, "git"), *url = ymap_get(g, "url");
		if (!url || url->type != Y_SCALAR || !url->len || !strncmp(url->s, "ssh://", 6))
			abort();
	}
	arena_free(a);
	free(out);
	free(err);
	return 0;
}
