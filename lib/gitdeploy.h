/* gitdeploy.h: the pure parts of mls gitwatch's deploys (no libgit2, no
 * I/O), so they can be unit-tested and fuzzed: the autoexec.txt parser and
 * the percent-encoding of request values (docs/gitwatch-protocol.md).
 *
 * Nothing here prints, exits or allocates. */
#ifndef MLS_GITDEPLOY_H
#define MLS_GITDEPLOY_H

#include <stddef.h>

#define AUTOEXEC_MAX_LINE 1000 /* bytes in the entry line (it travels
                                  percent-encoded in one 4 KiB request) */
#define AUTOEXEC_MAX_ARGS 64   /* words of the line */

/* The command autoexec.txt names: argv[0..argc) point into buf */
struct autoexec {
	int argc;
	const char *argv[AUTOEXEC_MAX_ARGS + 2]; /* + the interpreter, NULL */
	const char *file;                        /* the entry point, as written */
	char buf[AUTOEXEC_MAX_LINE + 1];         /* words, NUL-separated */
	char dotfile[AUTOEXEC_MAX_LINE + 3];     /* "./FILE" */
};

/* Parses the text of an autoexec.txt: its first line that is neither blank
 * nor a comment (first non-blank byte '#') names the entry point relative
 * to the repository's root, and may carry arguments (words split on blanks
 * and tabs; no quoting). *.py runs as python3 FILE ARGS, *.sh as sh FILE,
 * *.js as node FILE, anything else as ./FILE ARGS (executed directly; a
 * FILE that already starts with "./" is kept as is). CR before LF is
 * ignored. Returns 0, or -1 with a message in err (cut to errsz):
 * "autoexec.txt names no entry point" (no such line, or a NUL byte in it),
 * "autoexec.txt: its line is longer than 1000 bytes", "autoexec.txt: more
 * than 64 words", "autoexec.txt: FILE is not a path inside the repository"
 * (absolute, or a ".." part). The caller checks that FILE exists in the
 * checkout. */
int autoexec_parse(struct autoexec *a, const char *text, size_t len,
	char *err, size_t errsz);

/* Percent-encodes s into out (every byte <= 0x20, '%' and >= 0x7f as %XX,
 * upper-case hex), NUL-terminated. Returns the length, or -1 when it does
 * not fit in outsz (out then holds nothing useful). */
int gitdeploy_pct_encode(const char *s, char *out, size_t outsz);

/* Decodes %XX (either case) of s into out, NUL-terminated: 0, or -1 on a
 * bad escape, an encoded NUL, or when it does not fit in outsz. supervise
 * reads gitwatch's annotate values with it. */
int gitdeploy_pct_decode(const char *s, char *out, size_t outsz);

/* 1 when s is exactly 40 lower-case hex digits (a commit id) */
int gitdeploy_is_sha(const char *s);

#endif
