/* mls gitwatch: arrives with later work; the applet exists in the table. */
#include <stdio.h>
#include "applets.h"

int gitwatch_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
#if !MLS_HAVE_GIT
	fprintf(stderr, "mls gitwatch: this build has no git support (built with NO_GIT=1)\n");
#else
	fprintf(stderr, "mls gitwatch: not implemented yet\n");
#endif
	return 1;
}
