/* secretfile.h: a token or password kept in a file (http.token_file,
 * git.token_file, git.password_file): its first line, blanks around it
 * cut, read before a process drops its privileges. Nothing here prints or
 * exits. */
#ifndef MLS_SECRETFILE_H
#define MLS_SECRETFILE_H

#include <stddef.h>

#define SECRETFILE_MAX 4096 /* bytes in the file */

/* The secret of file path (malloc'd; the caller wipes and frees it), or
 * NULL with err: "cannot read PATH: ...", "PATH is larger than 4 KiB",
 * "PATH is empty", "the WHAT in PATH is shorter than N characters" (when
 * min > 0). what names it in messages ("token", "password"). The read
 * buffer is wiped. */
char *secretfile_read(const char *path, const char *what, size_t min, char *err, size_t errsz);

#endif
