/* mls httpd: arrives with later work; the applet exists in the table. */
#include <stdio.h>
#include "applets.h"

int httpd_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mls httpd: not implemented yet\n");
	return 1;
}
