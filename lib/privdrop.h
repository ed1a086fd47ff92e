/* privdrop.h: how mls's unprivileged helpers (httpd, gitwatch) give up
 * root for good, in one place. */
#ifndef MLS_PRIVDROP_H
#define MLS_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* When the process runs as root (euid 0): becomes uid:gid (supplementary
 * groups set to gid alone, then setgid, then setuid) and checks that
 * setuid(0) then fails; uid 0 is refused. Otherwise nothing is changed
 * (the caller checks that uid:gid is what it runs as). In both cases then
 * sets no_new_privs and makes the process not dumpable (secrets in
 * memory: no ptrace, no core by the same uid). Returns 0, or -1 with errno
 * and a message in err: "cannot become uid U gid G: REASON", "must not
 * run as root", "dropping privileges did not hold", "no_new_privs:
 * REASON". Nothing printed. */
int privdrop(uid_t uid, gid_t gid, char *err, size_t errsz);

#endif
