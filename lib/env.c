/* ${VAR} expansion for config values; the syntax is documented in env.h.
 *
 * One pass over the input, appending to a growing buffer. A default or
 * message word ("${A:-${B}}") is expanded by a recursive call, at most
 * ENV_MAX_DEPTH deep, and only when it is used; an unused word is still
 * walked in "dry" mode so that its syntax errors are reported anyway.
 * Cost: each nesting level rescans its word, so O(len * ENV_MAX_DEPTH). */
#include "env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_MAX_DEPTH 8   /* ${A:-${B:-...}} nesting of default words */
#define ENV_NAME_MAX  255 /* bytes in a variable name */

struct expander {
	const char *base;       /* the whole input: offsets are from here */
	env_lookup_fn lookup;
	void *ctx;
	int flags;              /* ENV_KEEP_INSTANCE */
	char *buf;              /* output so far, not NUL-terminated */
	size_t len, cap;
	struct env_error *err;  /* may be NULL */
};

/* What follows the name inside ${...} */
enum op {
	OP_PLAIN,         /* ${VAR} */
	OP_DEFAULT_EMPTY, /* ${VAR:-word} */
	OP_DEFAULT,       /* ${VAR-word} */
	OP_ERROR_EMPTY,   /* ${VAR:?word} */
	OP_ERROR,         /* ${VAR?word} */
};

/* One parsed ${...}; all pointers are into the input */
struct subst {
	const char *dollar;      /* the '$' */
	const char *word, *close; /* word is [word, close); close is the '}' */
	char name[ENV_NAME_MAX + 1];
	enum op op;
};

static int expand(struct expander *x, const char *p, const char *end,
		  int depth, int dry);

__attribute__((format(printf, 3, 4)))
static int fail(struct expander *x, const char *at, const char *fmt, ...)
{
	va_list ap;

	if (!x->err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err->msg, sizeof x->err->msg, fmt, ap);
	va_end(ap);
	x->err->offset = (int)(at - x->base);
	return -1;
}

static const char *getenv_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

/* Appends n bytes; `at` is where in the input they come from, for the
 * error when the output would pass ENV_MAX_OUT. */
static int put(struct expander *x, const char *s, size_t n, const char *at)
{
	if (n > ENV_MAX_OUT - x->len)
		return fail(x, at, "expanded value too long (limit %u bytes)",
			    ENV_MAX_OUT);
	if (x->len + n >= x->cap) { /* >=: keep a byte for the final NUL */
		size_t cap = x->cap ? x->cap : 64;
		while (cap <= x->len + n)
			cap *= 2; /* at most ~15 rounds: len + n <= 1 MiB */
		char *nb = realloc(x->buf, cap);
		if (!nb)
			return fail(x, at, "out of memory");
		x->buf = nb;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, s, n);
	x->len += n;
	return 0;
}

static int is_name_start(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

int env_is_instance_var(const char *name)
{
	return name && (strcmp(name, "PORT") == 0 ||
			strcmp(name, "MLS_INSTANCE") == 0 ||
			strcmp(name, "MLS_SERVICE") == 0);
}

/* The '}' that closes a word starting at p, skipping nested ${...} and
 * "$$"; NULL when there is none before end. */
static const char *find_close(const char *p, const char *end)
{
	int open = 0;

	while (p < end) {
		if (p[0] == '$' && p + 1 < end && (p[1] == '$' || p[1] == '{')) {
			open += (p[1] == '{');
			p += 2;
		} else if (*p == '}' && open-- == 0) {
			return p;
		} else {
			p++;
		}
	}
	return NULL;
}

/* The operator after the name at *p (advanced past it), -1 if none fits */
static int take_op(const char **p, const char *end)
{
	const char *s = *p;
	int colon = (*s == ':');

	if (s + colon >= end)
		return -1;
	switch (s[colon]) {
	case '}':
		if (colon)
			return -1;
		return OP_PLAIN; /* *p stays on the '}' */
	case '-':
		*p = s + colon + 1;
		return colon ? OP_DEFAULT_EMPTY : OP_DEFAULT;
	case '?':
		*p = s + colon + 1;
		return colon ? OP_ERROR_EMPTY : OP_ERROR;
	default:
		return -1;
	}
}

/* Parses the ${...} at sub->dollar (which starts with "${") */
static int parse_subst(struct expander *x, struct subst *sub, const char *end)
{
	const char *p = sub->dollar + 2, *name = p;
	int op;

	while (p < end && is_name_char(*p))
		p++;
	/* The operators contain neither '$' nor '}', so the '}' that closes
	 * the word is also the first unnested one from here. */
	sub->close = find_close(p, end);
	if (!sub->close)
		return fail(x, sub->dollar, "unterminated ${");
	if (p == name || !is_name_start(*name))
		return fail(x, sub->dollar, "bad variable name in ${...}");
	if (p - name > ENV_NAME_MAX)
		return fail(x, sub->dollar, "variable name too long (limit %d bytes)",
			    ENV_NAME_MAX);
	memcpy(sub->name, name, (size_t)(p - name));
	sub->name[p - name] = '\0';
	op = take_op(&p, end);
	if (op < 0)
		return fail(x, sub->dollar, *p == ':' ?
			    "expected :- or :? in ${...}" :
			    "bad variable name in ${...}");
	sub->op = (enum op)op;
	sub->word = p;
	return 0;
}

/* Expands the word of sub (or, dry, only checks it) */
static int expand_word(struct expander *x, const struct subst *sub,
		       int depth, int dry)
{
	if (sub->word == sub->close)
		return 0;
	if (depth + 1 > ENV_MAX_DEPTH)
		return fail(x, sub->dollar, "${...} nested too deeply (limit %d)",
			    ENV_MAX_DEPTH);
	return expand(x, sub->word, sub->close, depth + 1, dry);
}

/* ${VAR:?msg} / ${VAR?msg} when VAR is missing: expand msg, then fail */
static int fail_with_word(struct expander *x, const struct subst *sub, int depth)
{
	size_t mark = x->len;

	if (expand_word(x, sub, depth, 0) < 0)
		return -1;
	if (x->len == mark)
		return fail(x, sub->dollar, "%s is not set", sub->name);
	fail(x, sub->dollar, "%s: %.*s", sub->name, (int)(x->len - mark),
	     x->buf + mark);
	x->len = mark;
	return -1;
}

/* Puts the value of a parsed ${...} */
static int substitute(struct expander *x, const struct subst *sub, int depth)
{
	const char *v = x->lookup(sub->name, x->ctx);
	int missing = !v || (!*v && (sub->op == OP_DEFAULT_EMPTY ||
				     sub->op == OP_ERROR_EMPTY));

	if (!missing) {
		/* the word is unused, but a syntax error in it is still one */
		if (expand_word(x, sub, depth, 1) < 0)
			return -1;
		return put(x, v, strlen(v), sub->dollar);
	}
	switch (sub->op) {
	case OP_PLAIN:
		return fail(x, sub->dollar, "variable %s is not set", sub->name);
	case OP_DEFAULT_EMPTY:
	case OP_DEFAULT:
		return expand_word(x, sub, depth, 0);
	default:
		return fail_with_word(x, sub, depth);
	}
}

/* Handles the "${" at *p; *p is moved past the closing '}' */
static int expand_brace(struct expander *x, const char **p, const char *end,
			int depth, int dry)
{
	struct subst sub = { .dollar = *p };

	if (parse_subst(x, &sub, end) < 0)
		return -1;
	*p = sub.close + 1;
	if ((x->flags & ENV_KEEP_INSTANCE) && env_is_instance_var(sub.name)) {
		/* left for the per-instance expansion, word and all */
		if (expand_word(x, &sub, depth, 1) < 0)
			return -1;
		return dry ? 0 : put(x, sub.dollar, (size_t)(*p - sub.dollar),
				     sub.dollar);
	}
	if (dry)
		return expand_word(x, &sub, depth, 1);
	return substitute(x, &sub, depth);
}

/* The '$' at p, not followed by '{': "$$" is a literal $ (kept as "$$" for
 * the per-instance pass); a $ before anything else is left for the shell. */
static int put_dollar(struct expander *x, const char *p, const char *end)
{
	if (p + 1 < end && p[1] == '$' && (x->flags & ENV_KEEP_INSTANCE))
		return put(x, p, 2, p);
	return put(x, p, 1, p);
}

/* Expands [p, end); dry = check the syntax only, output nothing */
static int expand(struct expander *x, const char *p, const char *end,
		  int depth, int dry)
{
	/* Bounded: every round consumes at least one byte */
	while (p < end) {
		const char *dollar = memchr(p, '$', (size_t)(end - p));
		const char *stop = dollar ? dollar : end;
		if (!dry && put(x, p, (size_t)(stop - p), p) < 0)
			return -1;
		p = stop;
		if (p == end)
			break;
		if (p + 1 < end && p[1] == '{') {
			if (expand_brace(x, &p, end, depth, dry) < 0)
				return -1;
			continue;
		}
		if (!dry && put_dollar(x, p, end) < 0)
			return -1;
		p += (p + 1 < end && p[1] == '$') ? 2 : 1;
	}
	return 0;
}

int env_expand(const char *in, env_lookup_fn lookup, void *ctx, int flags,
	       char **out, struct env_error *err)
{
	struct expander x = {
		.base = in, .lookup = lookup ? lookup : getenv_lookup,
		.ctx = ctx, .flags = flags, .err = err,
	};

	*out = NULL;
	if (err) {
		err->msg[0] = '\0';
		err->offset = 0;
	}
	if (expand(&x, in, in + strlen(in), 0, 0) < 0) {
		free(x.buf);
		return -1;
	}
	if (!x.buf && !(x.buf = malloc(1))) {
		fail(&x, in, "out of memory");
		return -1;
	}
	x.buf[x.len] = '\0'; /* put() always leaves room for it */
	*out = x.buf;
	return 0;
}
