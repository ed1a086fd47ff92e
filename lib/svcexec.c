/* svcexec.c: argv, environment and spawn request of one service instance.
 * The contract is in svcexec.h.
 *
 * Everything a struct svcexec points to lives in one arena (x->mem), so
 * it stays valid after the config it was built from is freed (a reload
 * may happen while an instance is being started) and goes with one
 * svcexec_free(). The environment is an array indexed by a name -> slot
 * map, so building it is linear in its size even with SVCEXEC_MAX_ENV
 * variables. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "svcexec.h"
#include "arena.h"
#include "env.h"
#include "strmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The per-instance variables, for env_expand() */
struct inst_vars {
	const char *service;
	char instance[16];
	char port[16];    /* "" = the service has no port */
};

static const char *inst_lookup(const char *name, void *ctx)
{
	const struct inst_vars *iv = ctx;

	if (strcmp(name, "MLS_SERVICE") == 0)
		return iv->service;
	if (strcmp(name, "MLS_INSTANCE") == 0)
		return iv->instance;
	if (strcmp(name, "PORT") == 0)
		return iv->port[0] ? iv->port : NULL;
	/* Any other ${X} was expanded by the loader; one left here is an
	 * error (env_expand() names it). */
	return NULL;
}

/* The environment being built */
struct envb {
	struct arena *a;
	struct strmap idx; /* name -> slot + 1 in v */
	char **v;          /* SVCEXEC_MAX_ENV + 1 slots, NULL-terminated */
	int n;
};

/* `in` with the instance variables and $$ expanded, copied into the
 * arena; NULL with err ("WHERE: message") on failure. */
static char *expand(struct arena *a, const char *in, struct inst_vars *iv,
	const char *where, char *err, size_t errsz)
{
	struct env_error e;
	char *out, *copy;

	if (!strchr(in, '$')) {
		copy = arena_strdup(a, in);
	} else {
		if (env_expand(in, inst_lookup, iv, 0, &out, &e) < 0) {
			snprintf(err, errsz, "%s: %s", where, e.msg);
			return NULL;
		}
		copy = arena_strdup(a, out);
		free(out);
	}
	if (!copy)
		snprintf(err, errsz, "out of memory");
	return copy;
}

/* Sets NAME=VALUE (`kv`, owned by the arena; the name is its first nlen
 * bytes), replacing an earlier NAME. */
static int env_put(struct envb *e, char *kv, size_t nlen, char *err,
	size_t errsz)
{
	intptr_t slot = (intptr_t)strmap_get(&e->idx, kv, nlen);

	if (slot) {
		e->v[slot - 1] = kv;
		return 0;
	}
	if (e->n >= SVCEXEC_MAX_ENV) {
		snprintf(err, errsz, "too many environment variables (limit %d)",
			SVCEXEC_MAX_ENV);
		return -1;
	}
	if (strmap_put(&e->idx, kv, nlen, (void *)(intptr_t)(e->n + 1)) < 0) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	e->v[e->n++] = kv;
	return 0;
}

/* Copies name (n bytes) "=" value into the arena and sets it */
static int env_set(struct envb *e, const char *name, size_t n,
	const char *val, size_t vlen, char *err, size_t errsz)
{
	char *kv = arena_alloc(e->a, n + 1 + vlen + 1);

	if (!kv) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(kv, name, n);
	kv[n] = '=';
	memcpy(kv + n + 1, val, vlen);
	kv[n + 1 + vlen] = 0;
	return env_put(e, kv, n, err, errsz);
}

/* ------------------------------------------------------------- env_file */

/* The whole file into a malloc'd, NUL-terminated buffer, at most
 * SVCEXEC_MAX_ENV_FILE bytes: the buffer grows up to one byte past the
 * limit, and a file that fills that byte is too large. */
static char *read_file(const char *path, size_t *len, char *err, size_t errsz)
{
	const size_t max = SVCEXEC_MAX_ENV_FILE;
	struct stat st;
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	/* O_NONBLOCK: a FIFO (or a device) must not hang the supervisor in
	 * open() or read(); only a regular file is read */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "env_file %s: not a regular file", path);
		goto out;
	}
	if (st.st_size > 0)
		/* +1: the read that sees EOF needs room */
		cap = (uint64_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	if (!(buf = malloc(cap + 1)))
		goto fail;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				snprintf(err, errsz, "env_file %s: larger than "
					"%zu bytes", path, max);
				goto out;
			}
			size_t ncap = cap * 2 > max ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb)
				goto fail;
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	snprintf(err, errsz, "env_file %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_name_char(char c, int first)
{
	return c == '_' || ((c | 32) >= 'a' && (c | 32) <= 'z') ||
		(!first && c >= '0' && c <= '9');
}

/* One line of an env_file (without its '\n'): KEY=VALUE, optionally after
 * "export ", blanks around the '=' and at the ends ignored; a value in
 * matching single or double quotes loses them (nothing else: no escapes,
 * no expansion, no inline comments). Blank and '#' lines set nothing.
 * Returns 0, or -1 when the line is not KEY=VALUE. */
static int env_line(struct envb *e, char *p, char *end, char *err,
	size_t errsz)
{
	char *name, *val;
	size_t nlen;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
		end--;
	if (p == end || *p == '#')
		return 0;
	if (end - p > 7 && memcmp(p, "export", 6) == 0 && is_blank(p[6]))
		for (p += 7; p < end && is_blank(*p); p++)
			;
	name = p;
	while (p < end && is_name_char(*p, p == name))
		p++;
	nlen = (size_t)(p - name);
	while (p < end && is_blank(*p))
		p++;
	if (nlen == 0 || p == end || *p != '=') {
		snprintf(err, errsz, "expected KEY=VALUE");
		return -1;
	}
	for (p++; p < end && is_blank(*p); p++)
		;
	val = p;
	if (end - val >= 2 && (*val == '"' || *val == '\'') && end[-1] == *val) {
		val++;
		end--;
	}
	return env_set(e, name, nlen, val, (size_t)(end - val), err, errsz);
}

static int env_file(struct envb *e, const char *path, char *err, size_t errsz)
{
	size_t len;
	char *buf = read_file(path, &len, err, errsz);
	int line = 1, rc = 0;

	if (!buf)
		return -1;
	if (memchr(buf, 0, len)) {
		snprintf(err, errsz, "env_file %s: contains a NUL byte", path);
		free(buf);
		return -1;
	}
	for (char *p = buf; p < buf + len && rc == 0; line++) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		char *end = nl ? nl : buf + len;
		char msg[128];

		rc = env_line(e, p, end, msg, sizeof msg);
		if (rc)
			snprintf(err, errsz, "env_file %s:%d: %s", path, line, msg);
		p = end + 1;
	}
	free(buf);
	return rc;
}

int svcexec_env_file(struct svcexec *x, const char *path, char *err, size_t errsz)
{
	memset(x, 0, sizeof *x);
	struct envb e = { x->mem = arena_new(), { 0 }, NULL, 0 };
	if (e.a) {
		strmap_init(&e.idx, e.a);
		e.v = arena_alloc(e.a, (SVCEXEC_MAX_ENV + 1) * sizeof *e.v);
	}
	if (!e.v) {
		snprintf(err, errsz, "out of memory");
		svcexec_free(x);
		return -1;
	}
	if (env_file(&e, path, err, errsz)) {
		svcexec_free(x);
		return -1;
	}
	x->envp = e.v;
	return 0;
}

/* ------------------------------------------------------------ building */

/* base, env_files, environment, instance variables: later wins */
static int build_env(struct svcexec *x, const struct service *s,
	struct inst_vars *iv, char *const *base, char *err, size_t errsz)
{
	struct envb e = { x->mem, { 0 }, NULL, 0 };

	strmap_init(&e.idx, e.a);
	e.v = arena_alloc(e.a, (SVCEXEC_MAX_ENV + 1) * sizeof *e.v);
	if (!e.v) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (; base && *base; base++) {
		const char *eq = strchr(*base, '=');
		char *kv;

		if (!eq || eq == *base)
			continue; /* not NAME=VALUE: nothing a program could use */
		/* copied, so x does not depend on the caller's environ */
		if (!(kv = arena_strdup(e.a, *base))) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		if (env_put(&e, kv, (size_t)(eq - *base), err, errsz))
			return -1;
	}
	for (int i = 0; i < s->env_file.n; i++) {
		char *path = expand(e.a, s->env_file.v[i], iv, "env_file", err,
			errsz);
		if (!path || env_file(&e, path, err, errsz))
			return -1;
	}
	for (int i = 0; i < s->environment.n; i++) {
		const char *kv = s->environment.v[i], *eq = strchr(kv, '=');
		char where[300];
		char *v;

		if (!eq)
			continue; /* the loader only stores KEY=VALUE */
		snprintf(where, sizeof where, "environment %.*s",
			(int)(eq - kv), kv);
		v = expand(e.a, kv, iv, where, err, errsz);
		if (!v || env_put(&e, v, (size_t)(eq - kv), err, errsz))
			return -1;
	}
	if (env_set(&e, "MLS_SERVICE", 11, iv->service, strlen(iv->service),
	    err, errsz) ||
	    env_set(&e, "MLS_INSTANCE", 12, iv->instance, strlen(iv->instance),
	    err, errsz) ||
	    (iv->port[0] && env_set(&e, "PORT", 4, iv->port, strlen(iv->port),
	    err, errsz)))
		return -1;
	if (s->watchdog_ms > 0) {
		/* sd_watchdog_enabled(3) */
		char us[32];
		int n = snprintf(us, sizeof us, "%lld", (long long)s->watchdog_ms * 1000);
		/* WATCHDOG_PID: room for the pid, written by the child
		 * (spawn_req.pid_var), so sd_watchdog_enabled(3) in a helper
		 * process of the service says no */
		if (env_set(&e, "WATCHDOG_USEC", 13, us, (size_t)n, err, errsz) ||
		    env_set(&e, "WATCHDOG_PID", 12, "0000000000000000000000", 22, err, errsz))
			return -1;
	}
	x->envp = e.v;
	return 0;
}

static int build_argv(struct svcexec *x, const struct command *cmd,
	struct inst_vars *iv, char *err, size_t errsz)
{
	int argc = 0;

	if (!cmd || !cmd->argv || !cmd->argv[0]) {
		snprintf(err, errsz, "no command");
		return -1;
	}
	while (cmd->argv[argc])
		argc++;
	x->argv = arena_alloc(x->mem, ((size_t)argc + 1) * sizeof *x->argv);
	if (!x->argv) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (int i = 0; i < argc; i++)
		if (!(x->argv[i] = expand(x->mem, cmd->argv[i], iv, "command",
		    err, errsz)))
			return -1;
	return 0;
}

int svcexec_build_cmd(struct svcexec *x, const struct command *cmd,
	const struct service *s, int inst, int port, char *const *base,
	char *err, size_t errsz)
{
	struct inst_vars iv;

	memset(x, 0, sizeof *x);
	iv.service = s->name ? s->name : "";
	snprintf(iv.instance, sizeof iv.instance, "%d", inst);
	iv.port[0] = 0;
	if (port > 0)
		snprintf(iv.port, sizeof iv.port, "%d", port);
	x->mem = arena_new();
	if (!x->mem) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (build_argv(x, cmd, &iv, err, errsz) ||
	    build_env(x, s, &iv, base, err, errsz) ||
	    (s->working_dir && !(x->dir = expand(x->mem, s->working_dir, &iv,
	    "working_dir", err, errsz))) ||
	    spawn_resolve_user(s->user, &x->user, err, errsz)) {
		svcexec_free(x);
		return -1;
	}
	return 0;
}

int svcexec_build(struct svcexec *x, const struct service *s, int inst,
	int port, char *const *base, char *err, size_t errsz)
{
	return svcexec_build_cmd(x, &s->command, s, inst, port, base, err,
		errsz);
}

void svcexec_req(const struct svcexec *x, const struct service *s,
	struct spawn_req *r)
{
	spawn_req_init(r);
	r->argv = x->argv;
	r->envp = x->envp;
	r->dir = x->dir;
	r->user = x->user.set ? &x->user : NULL;
	r->rlimit_as = s->limits.memory;
	r->rlimit_nofile = s->limits.nofile;
	r->rlimit_core = s->limits.core;
	r->rlimit_nproc = s->limits.pids;
	r->nice = s->nice;
	r->has_nice = s->has_nice;
	for (char *const *v = x->envp; s->watchdog_ms > 0 && v && *v; v++)
		if (!strncmp(*v, "WATCHDOG_PID=", 13))
			r->pid_var = *v;
}

void svcexec_free(struct svcexec *x)
{
	arena_free(x->mem);
	memset(x, 0, sizeof *x);
}

char *svcexec_expand(const char *in, const struct service *s, int inst, int port, char *err, size_t errsz)
{
	struct inst_vars iv = { .service = s->name };
	snprintf(iv.instance, sizeof iv.instance, "%d", inst);
	if (port > 0)
		snprintf(iv.port, sizeof iv.port, "%d", port);
	struct env_error e;
	char *out;
	if (!strchr(in, '$'))
		return strdup(in);
	if (env_expand(in, inst_lookup, &iv, 0, &out, &e) < 0) {
		snprintf(err, errsz, "%s", e.msg);
		return NULL;
	}
	return out;
}
