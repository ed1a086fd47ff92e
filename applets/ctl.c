/* mls ctl: arrives with later work; the applet exists in the table. */
#include <stdio.h>
#include "applets.h"

int ctl_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mls ctl: not implemented yet\n");
	return 1;
}
