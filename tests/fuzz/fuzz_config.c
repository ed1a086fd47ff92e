/* libFuzzer target: the config loader on arbitrary bytes. Every input must
 * give diagnostics or a config, never a crash, a leak or a hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "config.h"

static const char *fake_env(const char *name, void *ctx)
{
	(void)ctx;
	return name[0] == 'H' ? "/home/x" : NULL; /* HOME and friends set, others not */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = { "dev", NULL };
	struct config cfg;
	struct diags d = {0};
	struct config_opts o = {
		.profiles = profiles,
		.getenv = fake_env,
		.unsupported = DIAG_WARNING,
		.no_servers_scan = 1, /* fuzz_serversdir reads a servers_dir made for it */
	};
	config_load_mem(&cfg, "fuzz.yaml", (const char *)data, size, &o, &d);
	config_free(&cfg);
	diags_free(&d);
	return 0;
}
