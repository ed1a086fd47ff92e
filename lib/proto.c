/* proto.c: the names of the control requests and their permission bits
 * (the API is in proto.h, the protocol in docs/protocol.md). */
#include "proto.h"

#include <stdio.h>
#include <string.h>

#define NAME_(n) n,
const char *const proto_read_commands[] = { PROTO_READ_COMMANDS(NAME_) NULL };
#undef NAME_

#define NAME_(id, n) n,
const char *const proto_mutating[] = { PROTO_MUTATING(NAME_) NULL };
#undef NAME_

proto_perm proto_perm_of(const char *cmd)
{
	for (int i = 0; cmd && proto_mutating[i]; i++)
		if (!strcmp(cmd, proto_mutating[i]))
			return 1u << i;
	return 0;
}

size_t proto_perm_fmt(proto_perm p, char *buf, size_t size)
{
	size_t n = 0;
	int first = 1;

	if (size)
		buf[0] = '\0';
	for (int i = 0; proto_read_commands[i]; i++, first = 0)
		n += (size_t)snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0,
			"%s%s", first ? "" : ", ", proto_read_commands[i]);
	for (int i = 0; proto_mutating[i]; i++)
		if (p & (1u << i))
			n += (size_t)snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0,
				", %s", proto_mutating[i]);
	return n;
}
