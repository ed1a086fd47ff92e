/* serversdir.h: what an entry of `servers_dir` is (docs/servers-dir.md).
 * The loader (lib/config.c) turns each entry into a service; supervise
 * watches the directory and reloads when it changes. Here: the pure part,
 * the name a service gets, the kind of an entry, and a fingerprint of what
 * the entry's service runs (its change restarts the service).
 *
 * Kinds, in this order of precedence:
 *   directory with mls.yaml      SRV_YAML     that file defines the service
 *   directory with autoexec.txt  SRV_AUTOEXEC the entry point it names
 *   directory with Dockerfile    SRV_DOCKER   a Docker service
 *   directory with executable run SRV_RUN     ./run (runit/s6 style)
 *   file with a known extension  SRV_SCRIPT   interpreter FILE
 *   executable file              SRV_EXEC     ./FILE
 *   anything else                SRV_SKIP     with the reason
 *
 * Nothing here prints, exits or allocates. */
#ifndef MLS_SERVERSDIR_H
#define MLS_SERVERSDIR_H

#include <stddef.h>
#include <stdint.h>

#define SERVERS_MAX_ENTRIES 1000 /* entries looked at in the directory */
#define SERVERS_MAX_NAME    255  /* bytes of an entry's file name */

enum srv_kind { SRV_SKIP, SRV_EXEC, SRV_SCRIPT, SRV_YAML, SRV_AUTOEXEC, SRV_DOCKER, SRV_RUN };

/* "executable", "script", "mls.yaml", "autoexec.txt", "Dockerfile", "run", "ignored" */
const char *srv_kind_name(enum srv_kind k);

/* A name that is never looked at: hidden (".*", which covers emacs'
 * ".#FILE"), editor and copy leftovers ("*~", "*.swp", "*.swo", "*.swx",
 * "*.tmp", "*.bak", "*.orig"), "*.disabled". 1 when ignored. */
int srv_ignored_name(const char *name);

/* The service name of an entry: the file name without its extension (for
 * a file; a directory keeps its whole name), lower-cased, every byte
 * outside [a-z0-9_-] mapped to '-', leading '-' and '_' dropped, cut to
 * 63. Returns 0, or -1 when nothing is left (out is then ""). */
int srv_service_name(const char *entry, int isdir, char *out, size_t outsz);

/* The extension of a file name including its dot (".py"), or NULL */
const char *srv_ext(const char *name);

/* Classify dir/name. has_interp(ext, ctx) says whether an extension has an
 * interpreter. *stamp gets a fingerprint of what the service would run
 * (the file's inode, size, mode and mtime; for a directory those of its
 * defining files: mls.yaml, autoexec.txt and the entry it names, run, and
 * for a Docker directory every file under it, at most 10,000). why gets
 * the reason for SRV_SKIP ("not executable, and no interpreter for
 * '.md'"). */
enum srv_kind srv_classify(const char *dir, const char *name,
	int (*has_interp)(const char *ext, void *ctx), void *ctx,
	uint64_t *stamp, char *why, size_t whysz);

/* Is `name`, an entry of a servers_dir entry's directory, one of the
 * files that define what the entry runs (so a change restarts it)? */
int srv_defining_name(const char *name);

#endif
