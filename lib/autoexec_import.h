/* AutoExec's services list to an mls config (`mls import autoexec`,
 * docs/cli.md). Pure: bytes in, YAML and messages out through stdio.
 *
 * The list: one service per line, `URL [BRANCH] [DIR]` separated by blanks;
 * blank lines and lines starting with '#' are skipped, and a word starting
 * with '#' ends the line (a comment). Each service becomes
 *
 *   NAME:
 *     # AutoExec dir: DIR (mls checks out under state_dir/git/NAME)
 *     git:
 *       url: "URL"
 *       ref: BRANCH
 *       interval: 30s
 *       rollback: true
 *
 * NAME is the repository's name (the URL's last path component without
 * .git), lower-cased, other characters than [a-z0-9_-] made '-', starting
 * with a letter or digit, at most 63 bytes; a name already taken gets -2,
 * -3, ... (mls-httpd and mls-gitwatch are mls's own: taken from the start).
 *
 * A line mls cannot take (ssh, another scheme, a bad URL or branch, more
 * than three words, not UTF-8) is reported on err as
 * "mls import: FILE:LINE: MESSAGE" and left out; the other lines are still
 * converted. Scalars are written so that any input gives valid YAML. */
#ifndef MLS_AUTOEXEC_IMPORT_H
#define MLS_AUTOEXEC_IMPORT_H

#include <stddef.h>
#include <stdio.h>

struct autoexec_stats {
	int services; /* written to out */
	int refused;  /* lines reported on err and left out */
};

/* text: the list (len bytes, NULs refused); fname names it in messages and
 * in the header comment. Returns 0, or -1 when out of memory. */
int autoexec_import(const char *text, size_t len, const char *fname, FILE *out, FILE *err,
		    struct autoexec_stats *st);

/* The service name derived from url (see above, without the -N of a
 * duplicate) into name (64 bytes). Exposed for the unit test. */
void autoexec_name(const char *url, char name[64]);

#endif
