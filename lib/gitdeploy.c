/* gitdeploy.c: see gitdeploy.h */
#include <stdio.h>
#include <string.h>
#include "gitdeploy.h"

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n > m && !strcmp(s + n - m, suf);
}

/* a path inside the repository: relative, no ".." part */
static int inside(const char *p)
{
	if (p[0] == '/')
		return 0;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 0;
		s += n + (s[n] == '/');
	}
	return 1;
}

int autoexec_parse(struct autoexec *a, const char *text, size_t len,
	char *err, size_t errsz)
{
	const char *p = text, *end = text + len, *line = NULL;
	size_t n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *s = p;
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		if (s < e && *s != '#') {
			line = s;
			n = (size_t)(e - s);
			break;
		}
		p = nl ? nl + 1 : end;
	}
	a->argc = 0;
	a->file = NULL;
	if (line && n > AUTOEXEC_MAX_LINE) {
		snprintf(err, errsz, "autoexec.txt: its line is longer than %d bytes", AUTOEXEC_MAX_LINE);
		return -1;
	}
	if (!line || memchr(line, 0, n)) {
		snprintf(err, errsz, "autoexec.txt names no entry point");
		return -1;
	}
	/* words into buf; the interpreter's name first when there is one */
	memcpy(a->buf, line, n);
	a->buf[n] = 0;
	const char *words[AUTOEXEC_MAX_ARGS];
	int nw = 0;
	for (char *s = a->buf; *s;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			*s++ = 0;
		if (!*s)
			break;
		if (nw == AUTOEXEC_MAX_ARGS) {
			snprintf(err, errsz, "autoexec.txt: more than %d words", AUTOEXEC_MAX_ARGS);
			return -1;
		}
		words[nw++] = s;
		s += strcspn(s, " \t\r");
	}
	const char *f = words[0]; /* nw >= 1: the line has a non-blank byte */
	if (!inside(f)) {
		snprintf(err, errsz, "autoexec.txt: %.200s is not a path inside the repository", f);
		return -1;
	}
	a->file = f;
	const char *interp = ends_with(f, ".py") ? "python3" : ends_with(f, ".sh") ? "sh" :
		ends_with(f, ".js") ? "node" : NULL;
	if (interp) {
		a->argv[a->argc++] = interp;
	} else if (strncmp(f, "./", 2)) {
		snprintf(a->dotfile, sizeof a->dotfile, "./%s", f);
		f = a->dotfile;
	}
	a->argv[a->argc++] = f;
	for (int i = 1; i < nw; i++)
		a->argv[a->argc++] = words[i];
	a->argv[a->argc] = NULL;
	return 0;
}

int gitdeploy_pct_encode(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int esc = c <= 0x20 || c == '%' || c >= 0x7f;
		if (o + (esc ? 3 : 1) >= outsz)
			return -1;
		if (esc) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	if (o >= outsz)
		return -1;
	out[o] = 0;
	return (int)o;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int gitdeploy_pct_decode(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	for (; *s; s++) {
		int c = (unsigned char)*s;
		if (c == '%') {
			int hi = hexval((unsigned char)s[1]), lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);
			if (lo < 0 || !(c = hi << 4 | lo))
				return -1;
			s += 2;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	if (!outsz)
		return -1;
	out[o] = 0;
	return 0;
}

int gitdeploy_is_sha(const char *s)
{
	int n = 0;
	for (; (s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'); n++)
		;
	return n == 40 && !s[n];
}
