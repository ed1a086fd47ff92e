/* netconn.h: the TCP connect of mls's clients (mls health, gitwatch's git
 * streams): each address of the host in turn, non-blocking, all within
 * one deadline. Nothing here prints or exits. */
#ifndef MLS_NETCONN_H
#define MLS_NETCONN_H

#include <stdint.h>

/* A connected non-blocking socket (close-on-exec) to host:port, or -1:
 * with *gai_err an EAI_* code when the name did not resolve (EAI_SYSTEM:
 * errno says why), else *gai_err 0 and errno the last address's error
 * (ETIMEDOUT when the deadline passed; deadline is absolute, in ms of
 * loop_now_ms()). */
int netconn_tcp(const char *host, const char *port, int64_t deadline, int *gai_err);

#endif
