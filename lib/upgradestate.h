/* upgradestate.h: the container of a live upgrade's state (mls ctl
 * upgrade, docs/upgrade.md): what the old supervise hands the new one
 * across execve(), in a memfd whose number the new one finds in
 * MLS_UPGRADE_STATE.
 *
 * The memfd holds one header line and a body:
 *
 *     mls-upgrade-state VERSION LENGTH\n
 *     BODY (LENGTH bytes: a JSON object)
 *
 * VERSION is UPST_VERSION of the writer; a reader that does not know it
 * refuses the whole state (the old process keeps running). LENGTH is at
 * most UPST_MAX, so a reader never allocates more than that. What the
 * body holds is sv_upgrade.c's business; this file only frames it.
 *
 * Nothing here prints or exits; functions return -1 (or NULL) with errno
 * or a message. */
#ifndef MLS_UPGRADESTATE_H
#define MLS_UPGRADESTATE_H

#include <stddef.h>

#define UPST_VERSION 1
#define UPST_MAX (64u << 20)      /* bytes of body: 64 MiB */
#define UPST_ENV "MLS_UPGRADE_STATE"

/* A new memfd (close-on-exec) holding the header and `body`, its offset
 * back at 0. Returns the fd, or -1 with errno (EFBIG past UPST_MAX). */
int upst_write(const char *body, size_t len, int version);

/* Reads the header and body of fd (with pread: the offset does not
 * matter). Returns the body, malloc'd and NUL-terminated (*len without the
 * NUL), with *version the writer's; or NULL with a message in err: not a
 * state, truncated, too long. The version is not judged here. */
char *upst_read(int fd, size_t *len, int *version, char *err, size_t errsz);

/* Hex: 2n characters into out (no NUL); and back: n bytes of 2n hex
 * characters, -1 on a character that is not hex */
void upst_hex(const unsigned char *in, size_t n, char *out);
int upst_unhex(const char *in, size_t n2, unsigned char *out);

#endif
