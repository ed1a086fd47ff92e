/* ${VAR} expansion for config values.
 *   ${VAR}            value of VAR; undefined -> error
 *   ${VAR:-default}   default when VAR is unset or empty
 *   ${VAR-default}    default when VAR is unset
 *   ${VAR:?message}   error with message when unset or empty
 *   ${VAR?message}    error with message when unset
 *   $$                a literal $
 *   $VAR (no braces)  left as is (shell commands see it)
 * With ENV_KEEP_INSTANCE, ${PORT} ${MLS_INSTANCE} ${MLS_SERVICE} (in any
 * form) and $$ are left untouched, to be expanded per instance at start. */
#ifndef MLS_ENV_H
#define MLS_ENV_H

#include <stddef.h>

#define ENV_KEEP_INSTANCE 1
#define ENV_MAX_OUT (1u << 20) /* an expanded value may not exceed 1 MiB */

typedef const char *(*env_lookup_fn)(const char *name, void *ctx);

struct env_error {
	char msg[256];
	int offset; /* 0-based offset in the input where the problem starts */
};

/* Expands `in` into a malloc'd string in *out. Returns 0, or -1 with *err
 * filled (and *out NULL). */
int env_expand(const char *in, env_lookup_fn lookup, void *ctx, int flags,
	       char **out, struct env_error *err);

/* Is `name` one of PORT, MLS_INSTANCE, MLS_SERVICE? */
int env_is_instance_var(const char *name);

#endif
