/* privdrop.c: see privdrop.h */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "privdrop.h"

int privdrop(uid_t uid, gid_t gid, char *err, size_t errsz)
{
	if (geteuid() == 0) {
		if (uid == 0) {
			snprintf(err, errsz, "must not run as root");
			errno = EPERM;
			return -1;
		}
		if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
			int e = errno;
			snprintf(err, errsz, "cannot become uid %u gid %u: %s", (unsigned)uid,
				(unsigned)gid, strerror(e));
			errno = e;
			return -1;
		}
		if (setuid(0) == 0) {
			snprintf(err, errsz, "dropping privileges did not hold");
			errno = EPERM;
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		int e = errno;
		snprintf(err, errsz, "no_new_privs: %s", strerror(e));
		errno = e;
		return -1;
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}
