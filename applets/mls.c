/* mls: the multi-call entry point. The applet comes from argv[0]
 * ("ctl", "mls-ctl", "-mls-ctl", "init" for supervise) or, when argv[0]
 * is the multi-call binary itself, from argv[1] (busybox convention).
 *
 * argv[0]'s base name, one leading '-' removed (login shells, init):
 *   APPLET, mls-APPLET, init  that applet (init: supervise)
 *   poweroff, reboot, halt    ask the supervisor, the system's init
 *                             (busybox's names; -f: reboot(2) at once;
 *                             links only: not applets of `mls NAME`)
 *   mls                       the multi-call binary (build/mls,
 *                             build/dev/mls, build/aarch64/mls under qemu,
 *                             a copy in a scratch root: all named mls)
 *   mls followed by anything but '-', e.g. mls.debug (the unstripped
 *   binary in build/obj/), mls.static, mls_x86_64, mls2
 *                             the multi-call binary too: a renamed copy,
 *                             as busybox takes any name starting with
 *                             "busybox"
 *   "" (argv[0] empty or missing)  the multi-call binary
 *   /proc/self/exe            the multi-call binary: how supervise starts
 *                             mls httpd (the very binary it runs, even
 *                             when the file was replaced since)
 *   mls-X, X no applet        unknown applet X, exit 127: "mls-" names
 *                             applet links, so mls-static is not the
 *                             multi-call binary
 *   anything else             unknown applet NAME, exit 127, as
 *                             `mls NAME` says: a link made under a wrong
 *                             name fails loudly instead of printing usage */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "cJSON.h"
#include "applets.h"
#if MLS_HAVE_GIT
#include <git2/version.h>
#endif

#ifndef MLS_VERSION
#define MLS_VERSION "0.0.0-unknown"
#endif
#ifndef MLS_ARCH
#define MLS_ARCH "unknown"
#endif
#ifndef MLS_BEARSSL_VERSION
#define MLS_BEARSSL_VERSION "unknown"
#endif

struct applet {
	const char *name;
	int (*main)(int, char **);
	const char *summary, *usage;
};

/* sorted by name for bsearch: keep MLS_APPLETS in alphabetical order is
 * not required; the table is searched linearly (six entries). */
static const struct applet applets[] = {
#define APPLET_AS(n, f, s, u) { n, f##_main, s, u },
	MLS_APPLETS
#undef APPLET_AS
};
#define NAPPLETS (int)(sizeof applets / sizeof applets[0])

static const struct applet *find_applet(const char *name)
{
	if (!strcmp(name, "init"))
		name = "supervise";
	for (int i = 0; i < NAPPLETS; i++)
		if (!strcmp(applets[i].name, name))
			return &applets[i];
	return NULL;
}

int applet_usage(const char *name, int is_error)
{
	const struct applet *a = find_applet(name);
	FILE *f = is_error ? stderr : stdout;
	if (a)
		fprintf(f, "usage: %s\n\n%s.\nSee docs/cli.md for the options.\n", a->usage, a->summary);
	return is_error ? 2 : 0;
}

static void print_help(FILE *f)
{
	fprintf(f, "mls %s: a small process supervisor, one static binary.\n\n"
		   "usage: mls APPLET [ARGS...]    or a link named APPLET or mls-APPLET\n"
		   "       mls --list | --version | --help | --install [-s] DIR\n\n"
		   "applets:\n", MLS_VERSION);
	for (int i = 0; i < NAPPLETS; i++)
		fprintf(f, "  %-10s %s\n", applets[i].name, applets[i].summary);
	fprintf(f, "\n'mls APPLET --help' shows an applet's usage.\n");
}

static void print_version(void)
{
	printf("mls %s (%s)\n", MLS_VERSION, MLS_ARCH);
	printf("features: %cgit %ctls\n", MLS_HAVE_GIT ? '+' : '-', MLS_HAVE_TLS ? '+' : '-');
	printf("libyaml %s\n", yaml_get_version_string());
	printf("cJSON %s\n", cJSON_Version());
#if MLS_HAVE_TLS
	printf("BearSSL %s\n", MLS_BEARSSL_VERSION);
#endif
#if MLS_HAVE_GIT
	printf("libgit2 %s\n", LIBGIT2_VERSION);
#endif
}

/* --install [-s] DIR: DIR/mls-APPLET for every applet */
static int install_links(int argc, char **argv)
{
	int sym = 0, i = 0;
	if (i < argc && !strcmp(argv[i], "-s")) {
		sym = 1;
		i++;
	}
	if (argc - i != 1) {
		fprintf(stderr, "usage: mls --install [-s] DIR\n");
		return 2;
	}
	const char *dir = argv[i];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) {
		fprintf(stderr, "mls: --install: cannot find my own path in /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	self[n] = 0;
	struct stat me;
	if (stat(self, &me)) {
		fprintf(stderr, "mls: --install: %s: %s\n", self, strerror(errno));
		return 1;
	}
	int rc = 0;
	for (int j = 0; j < NAPPLETS; j++) {
		char dst[PATH_MAX];
		struct stat st;
		snprintf(dst, sizeof dst, "%s/mls-%s", dir, applets[j].name);
		/* replace our own links; never clobber another file */
		if (lstat(dst, &st) == 0) {
			struct stat tgt;
			int ours = S_ISLNK(st.st_mode) ? (stat(dst, &tgt) == 0 && tgt.st_ino == me.st_ino && tgt.st_dev == me.st_dev) || stat(dst, &tgt) != 0
						      : st.st_ino == me.st_ino && st.st_dev == me.st_dev;
			if (!ours) {
				fprintf(stderr, "mls: --install: %s exists and is not a link to mls; left alone\n", dst);
				rc = 1;
				continue;
			}
			unlink(dst);
		}
		if (sym ? symlink(self, dst) : link(self, dst)) {
			fprintf(stderr, "mls: --install: cannot create %s: %s\n", dst, strerror(errno));
			rc = 1;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *name = argc > 0 && argv[0] ? argv[0] : "mls";
	if (!strcmp(name, "/proc/self/exe"))
		name = "mls";
	const char *slash = strrchr(name, '/');
	if (slash)
		name = slash + 1;
	if (name[0] == '-')
		name++;
	if (!strcmp(name, "poweroff") || !strcmp(name, "reboot") || !strcmp(name, "halt"))
		return power_main(argc, argv);
	if (!strncmp(name, "mls-", 4)) {
		name += 4;
		if (!find_applet(name)) {
			fprintf(stderr, "mls: unknown applet '%s'\n", name);
			return 127;
		}
	}
	const struct applet *a = find_applet(name);
	if (!a && *name && strncmp(name, "mls", 3)) {
		fprintf(stderr, "mls: unknown applet '%s'\n", name);
		return 127;
	}
	if (!a) {
		/* the multi-call binary itself */
		if (argc < 2) {
			print_help(stderr);
			return 2;
		}
		const char *arg = argv[1];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			print_help(stdout);
			return 0;
		}
		if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
			print_version();
			return 0;
		}
		if (!strcmp(arg, "--list")) {
			for (int i = 0; i < NAPPLETS; i++)
				printf("%s\n", applets[i].name);
			return 0;
		}
		if (!strcmp(arg, "--install"))
			return install_links(argc - 2, argv + 2);
		if (arg[0] == '-') {
			fprintf(stderr, "mls: unknown option '%s'\n", arg);
			print_help(stderr);
			return 2;
		}
		a = find_applet(arg);
		if (!a || !strcmp(arg, "init")) {
			fprintf(stderr, "mls: unknown applet '%s'\n", arg);
			return 127;
		}
		argc--;
		argv++;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return applet_usage(a->name, 0);
	return a->main(argc, argv);
}
