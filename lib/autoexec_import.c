/* AutoExec's services list to an mls config: see autoexec_import.h. */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "arena.h"
#include "autoexec_import.h"
#include "parse.h"
#include "strmap.h"

#define NAME_MAX_LEN 63

/* The code point at s (n bytes left) into *cp; returns its length, or 0
 * when s does not start with a valid UTF-8 sequence (overlong forms,
 * surrogates and values above U+10FFFF are invalid). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static int utf8_ok(const char *s)
{
	size_t n = strlen(s);
	uint32_t cp;
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_next((const unsigned char *)s + i, n - i, &cp)))
			return 0;
	return 1;
}

/* s as a YAML double-quoted scalar: any bytes give valid YAML (a byte that
 * is not UTF-8 is written \xHH, which only a comment may get) */
static void put_quoted(FILE *f, const char *s)
{
	size_t n = strlen(s), k;
	uint32_t cp;

	putc('"', f);
	for (size_t i = 0; i < n; i += k) {
		if (!(k = utf8_next((const unsigned char *)s + i, n - i, &cp))) {
			fprintf(f, "\\x%02x", (unsigned char)s[i]);
			k = 1;
		} else if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			fprintf(f, "\\x%02x", (unsigned)cp);
		else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
			fprintf(f, "\\u%04x", (unsigned)cp); /* line breaks, BOM, non-characters */
		else
			fwrite(s + i, 1, k, f);
	}
	putc('"', f);
}

/* s in a comment: as it is when it is printable ASCII, else quoted */
static void put_comment_text(FILE *f, const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e) {
			put_quoted(f, s);
			return;
		}
	fputs(s, f);
}

/* A plain scalar that reads back as the same string (no null, no indicator) */
static int plain_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '/' || *p == '-'))
			return 0;
	return strcasecmp(s, "null") != 0;
}

static void put_scalar(FILE *f, const char *s)
{
	if (plain_ok(s))
		fputs(s, f);
	else
		put_quoted(f, s);
}

void autoexec_name(const char *url, char name[64])
{
	const char *s = url, *e, *sep = strstr(url, "://");
	size_t n = 0;
	int dash = 0;

	if (sep) {
		s = sep + 3;
		if (strncasecmp(url, "file://", 7)) /* a query or fragment is no part of the name */
			e = s + strcspn(s, "?#");
		else
			e = s + strlen(s);
	} else
		e = s + strlen(s);
	while (e > s && e[-1] == '/')
		e--;
	for (const char *p = e; p > s; p--)
		if (p[-1] == '/') {
			s = p;
			break;
		}
	if (e - s >= 4 && !strncasecmp(e - 4, ".git", 4))
		e -= 4;
	for (const char *p = s; p < e && n < NAME_MAX_LEN; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			if (dash)
				continue; /* one '-' for a run of them (a UTF-8 character, "a  b") */
			c = '-';
			dash = 1;
		} else
			dash = 0;
		if (n == 0 && (c == '-' || c == '_'))
			continue; /* starts with a letter or a digit */
		name[n++] = c;
	}
	name[n] = 0;
	if (!n)
		strcpy(name, "service");
}

/* Why mls cannot clone url, or NULL; *ssh set for ssh URLs */
static const char *url_problem(const char *url, int *ssh)
{
	static const char *const ssh_schemes[] = { "ssh://", "git+ssh://", "ssh+git://", NULL };
	const char *sep = strstr(url, "://");
	char host[256];
	int https, port;

	*ssh = 0;
	for (int i = 0; ssh_schemes[i]; i++)
		if (!strncasecmp(url, ssh_schemes[i], strlen(ssh_schemes[i]))) {
			*ssh = 1;
			return "ssh";
		}
	if (!sep) {
		if (url[0] == '/')
			return NULL;
		/* git's rule: a ':' before any '/' is scp-like ssh, [user@]host:path */
		const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
		if (colon && (!slash || colon < slash)) {
			*ssh = 1;
			return "ssh";
		}
		return "relative path (mls needs https://HOST/PATH, file:///PATH or /PATH)";
	}
	if (!strncasecmp(url, "file://", 7))
		return NULL;
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
		return "URL scheme not supported by mls (use https:// or file://)";
	if (parse_url(url, &https, host, sizeof host, &port))
		return "bad URL (expected https://HOST[:PORT]/PATH)";
	return NULL;
}

/* The branch check of mls's config loader, and no control characters */
static int branch_ok(const char *b)
{
	if (!*b || strpbrk(b, " ~^:?*[\\") || strstr(b, ".."))
		return 0;
	for (const char *p = b; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

struct imp {
	const char *fname;
	FILE *out, *err;
	struct arena *a;
	struct strmap taken; /* name -> the next -N to try for it */
	struct autoexec_stats *st;
};

static void refuse(struct imp *im, int line, const char *msg, const char *url)
{
	fprintf(im->err, "mls import: %s:%d: %s", im->fname, line, msg);
	if (url) {
		fputs(": ", im->err);
		put_comment_text(im->err, url);
	}
	putc('\n', im->err);
	im->st->refused++;
}

/* name, or name-N for the first N >= 2 not taken, made taken; NULL on ENOMEM */
static const char *take_name(struct imp *im, const char *base)
{
	size_t blen = strlen(base);
	uintptr_t next = (uintptr_t)strmap_get(&im->taken, base, blen);
	char buf[64];
	const char *name = base;

	if (next) {
		for (;; next++) {
			char suf[24];
			size_t sl = (size_t)snprintf(suf, sizeof suf, "-%lu", (unsigned long)next);
			size_t keep = blen + sl > NAME_MAX_LEN ? NAME_MAX_LEN - sl : blen;
			memcpy(buf, base, keep);
			strcpy(buf + keep, suf);
			if (!strmap_get(&im->taken, buf, strlen(buf)))
				break;
		}
		if (strmap_put(&im->taken, base, blen, (void *)(next + 1)))
			return NULL;
		name = buf;
	}
	char *copy = arena_strdup(im->a, name);
	if (!copy || strmap_put(&im->taken, copy, strlen(copy), (void *)(uintptr_t)2))
		return NULL;
	return copy;
}

/* One line (NUL-terminated, no newline); -1 on ENOMEM */
static int one_line(struct imp *im, char *s, int line)
{
	char *w[4];
	int n = 0;

	for (char *p = s;;) {
		p += strspn(p, " \t");
		if (!*p || *p == '#')
			break;
		if (n == 4)
			break;
		w[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = 0;
	}
	if (n == 0)
		return 0;
	if (n > 3) {
		refuse(im, line, "more than 3 words (expected URL [BRANCH] [DIR])", NULL);
		return 0;
	}
	const char *url = w[0], *branch = n > 1 ? w[1] : NULL, *dir = n > 2 ? w[2] : NULL;
	int ssh;
	const char *why = utf8_ok(url) ? url_problem(url, &ssh) : (ssh = 0, "URL is not valid UTF-8");
	if (ssh) {
		refuse(im, line, "ssh URL not supported by mls (use https:// or file://)", url);
		return 0;
	}
	if (why) {
		refuse(im, line, why, url);
		return 0;
	}
	if (branch && (!utf8_ok(branch) || !branch_ok(branch))) {
		refuse(im, line, "bad branch name", branch);
		return 0;
	}

	char base[64];
	autoexec_name(url, base);
	const char *name = take_name(im, base);
	if (!name)
		return -1;
	FILE *f = im->out;
	if (!im->st->services++)
		fputs("services:\n", f);
	fputs("  ", f);
	put_scalar(f, name);
	fputs(":\n", f);
	if (dir) {
		fputs("    # AutoExec dir: ", f);
		put_comment_text(f, dir);
		fprintf(f, " (mls checks out under state_dir/git/%s)\n", name);
	}
	fputs("    git:\n      url: ", f);
	put_quoted(f, url);
	putc('\n', f);
	if (branch) {
		fputs("      ref: ", f);
		put_scalar(f, branch);
		putc('\n', f);
	}
	fputs("      interval: 30s\n      rollback: true\n", f);
	return 0;
}

int autoexec_import(const char *text, size_t len, const char *fname, FILE *out, FILE *err,
		    struct autoexec_stats *st)
{
	struct imp im = { .fname = fname, .out = out, .err = err, .st = st };
	int rc = 0, line = 0;

	memset(st, 0, sizeof *st);
	if (!(im.a = arena_new()))
		return -1;
	strmap_init(&im.taken, im.a);
	/* mls's own instances */
	if (strmap_put(&im.taken, "mls-httpd", 9, (void *)(uintptr_t)2) ||
	    strmap_put(&im.taken, "mls-gitwatch", 12, (void *)(uintptr_t)2)) {
		arena_free(im.a);
		return -1;
	}
	fputs("# converted from AutoExec ", out);
	put_comment_text(out, fname);
	fputs(" by mls import\n", out);

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) /* a BOM */
		text += 3, len -= 3;
	for (size_t i = 0; i < len && !rc;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - i;
		line++;
		if (n && text[end - 1] == '\r')
			n--;
		if (memchr(text + i, 0, n)) {
			refuse(&im, line, "a NUL byte in the line", NULL);
		} else {
			char *s = arena_strndup(im.a, text + i, n);
			rc = s ? one_line(&im, s, line) : -1;
		}
		i = end + 1;
	}
	if (!rc && !st->services)
		fputs("services: {}\n", out);
	arena_free(im.a);
	return rc;
}
