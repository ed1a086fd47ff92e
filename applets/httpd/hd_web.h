/* hd_web.h: the dashboard's files (web/), embedded at build time by
 * scripts/embed-web.sh into a generated C file: each gzip -9 -n'd, with
 * an ETag made from a hash of its compressed bytes. */
#ifndef MLS_HD_WEB_H
#define MLS_HD_WEB_H

#include <stddef.h>

struct hd_web_file {
	const char *path;          /* "/", "/app.js", "/style.css" */
	const char *content_type;
	const char *etag;          /* "\"...\"", quotes included */
	const unsigned char *gz;   /* gzip member */
	size_t gz_len;
	size_t plain_len;          /* its size uncompressed */
};

extern const struct hd_web_file hd_web_files[];
extern const int hd_web_nfiles;

#endif
