/* fdio.h: small fd helpers shared by lib/ files. */
#ifndef MLS_FDIO_H
#define MLS_FDIO_H

#include <stddef.h>

/* write() until all of buf is out, retrying on EINTR. Returns 0, or -1
 * with errno (EIO for a write that takes nothing); *done says how much
 * went out either way. */
int write_all(int fd, const char *buf, size_t len, size_t *done);

#endif
