/* ctl_power.c: poweroff, reboot, halt: `mls ctl poweroff|reboot|halt`
 * and the busybox-style links named poweroff, reboot and halt (dispatched
 * by applets/mls.c). They ask the supervisor, which must be the system's
 * init (docs/init.md): it stops every service in reverse dependency
 * order, kills what is left, unmounts and calls reboot(2). -f skips the
 * supervisor: sync() and reboot(2) at once, as busybox's -f does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>
#include "ctl.h"
#include "proto.h"

int ctl_power(const struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage("%s takes no arguments", argv[0]);
	int rc;
	cJSON *j = ctl_call(c, argv, 1, &rc);
	if (j && !c->json)
		printf("the system is going down for %s\n", argv[0]);
	cJSON_Delete(j);
	return rc;
}

/* argv[0] poweroff, reboot or halt: [-f] [-n] [-s SOCKET] */
int power_main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	name += name[0] == '-';
	struct ctl c = { .sock = getenv("MLS_SOCKET"), .timeout_ms = CTL_WAIT_MS };
	int force = 0, nosync = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f"))
			force = 1;
		else if (!strcmp(argv[i], "-n"))
			nosync = 1;
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			c.sock = argv[++i];
		else {
			fprintf(stderr, "usage: %s [-f] [-n] [-s SOCKET]\n"
					"  ask mls supervise, the system's init, to stop every service and %s;\n"
					"  -f: no supervisor, sync and reboot(2) now; -n: with -f, no sync\n",
				name, name);
			return !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ? 0 : CTL_USAGE;
		}
	}
	if (force) {
		if (!nosync)
			sync();
		int how = !strcmp(name, "poweroff") ? RB_POWER_OFF : !strcmp(name, "halt") ? RB_HALT_SYSTEM : RB_AUTOBOOT;
		reboot(how);
		fprintf(stderr, "%s: reboot(2): %s\n", name, strerror(errno));
		return CTL_FAIL;
	}
	if (!c.sock || !*c.sock)
		c.sock = PROTO_DEFAULT_SOCKET;
	char *words[] = { (char *)name, NULL };
	int rc = ctl_power(&c, 1, words);
	fflush(stdout);
	return rc;
}
