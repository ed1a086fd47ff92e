/* mls validate: check config files and report every problem, in the words
 * supervise and reload use (the same loader writes them).
 *
 *   mls validate [-c FILE]... [--profile P]... [--format text|json|github]
 *                [--strict] [FILE|DIR]...
 *
 * -c files are merged into one config; each positional FILE, and each
 * *.yaml / *.yml in a DIR, is checked as a config of its own.
 * Exit: 0 valid (warnings allowed unless --strict), 1 invalid, 2 usage or
 * a file that cannot be read. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "applets.h"
#include "cJSON.h"
#include "cgroup.h"
#include "config.h"

#define MAX_ARGS 256 /* files and profiles on one command line */

enum format { FMT_TEXT, FMT_JSON, FMT_GITHUB };

struct run {
	const char *profiles[MAX_ARGS + 1];
	int nprofiles;
	struct diags d;   /* over every config checked */
	int nconfigs;
	cJSON *servers;   /* servers_dir entries of every config checked */
};

/* What servers_dir held: each entry, the service it runs and how, or why
 * not (docs/servers-dir.md) */
static void list_servers(struct run *r, const struct config *cfg)
{
	if (!cfg->servers_dir)
		return;
	if (!r->servers)
		r->servers = cJSON_CreateArray();
	for (int k = 0; r->servers && k < cfg->nservers; k++) {
		const struct servers_entry *e = &cfg->servers[k];
		cJSON *o = cJSON_CreateObject(), *cmd = NULL;
		if (!o)
			return;
		cJSON_AddStringToObject(o, "entry", e->path);
		cJSON_AddStringToObject(o, "kind", e->kind);
		cJSON_AddBoolToObject(o, "runs", e->runs);
		if (e->note)
			cJSON_AddStringToObject(o, e->problem ? "error" : "ignored", e->note);
		cJSON *names = cJSON_AddArrayToObject(o, "services");
		for (int j = 0; names && e->runs && j < cfg->nsvcs; j++) {
			const struct service *s = &cfg->svcs[j];
			if (s->source != e->path)
				continue;
			cJSON *so = cJSON_CreateObject();
			cJSON_AddStringToObject(so, "name", s->name);
			if ((cmd = cJSON_AddArrayToObject(so, "command")))
				for (int a = 0; a < s->command.argc; a++)
					cJSON_AddItemToArray(cmd, cJSON_CreateString(s->command.argv[a]));
			cJSON_AddStringToObject(so, "working_dir", s->working_dir ? s->working_dir : ".");
			if (s->port == PORT_AUTO)
				cJSON_AddStringToObject(so, "port", "auto");
			else if (s->port > 0)
				cJSON_AddNumberToObject(so, "port", s->port);
			cJSON_AddItemToArray(names, so);
		}
		cJSON_AddItemToArray(r->servers, o);
	}
}

static void print_servers(const cJSON *servers)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, servers) {
		const char *entry = cJSON_GetObjectItem(e, "entry")->valuestring;
		const cJSON *why = cJSON_GetObjectItem(e, "ignored"), *bad = cJSON_GetObjectItem(e, "error");
		if (why || bad) {
			printf("%s: %s: %s\n", entry, why ? "ignored" : "not run", (why ? why : bad)->valuestring);
			continue;
		}
		const cJSON *s;
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(e, "services")) {
			printf("%s: service %s (%s):", entry, cJSON_GetObjectItem(s, "name")->valuestring,
			       cJSON_GetObjectItem(e, "kind")->valuestring);
			const cJSON *a, *port = cJSON_GetObjectItem(s, "port");
			cJSON_ArrayForEach(a, cJSON_GetObjectItem(s, "command"))
				printf(" %s", a->valuestring);
			printf(" (in %s", cJSON_GetObjectItem(s, "working_dir")->valuestring);
			if (cJSON_IsString(port))
				printf(", port auto");
			else if (port)
				printf(", port %d", port->valueint);
			printf(")\n");
		}
	}
}

static int check(struct run *r, const char *const *files, int n)
{
	struct config cfg;
	static char cgwhy[200];
	static int probed;
	if (!probed++ && cgroup_probe(getenv("MLS_CGROUP_MOUNT"), cgwhy, sizeof cgwhy) == 0)
		cgwhy[0] = 0;
	struct config_opts o = {
		.profiles = r->profiles,
		.check_commands = 1,
		.unsupported = DIAG_WARNING,
		.cgroup_why = cgwhy[0] ? cgwhy : NULL,
	};
	int first = r->d.n;
	config_load(&cfg, files, n, &o, &r->d);
	list_servers(r, &cfg);
	config_free(&cfg);
	/* sort this config's findings by place, keep configs in order */
	struct diags part = { .v = r->d.v + first, .n = r->d.n - first, .cap = r->d.n - first };
	diag_sort(&part);
	r->nconfigs++;
	return 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.yaml / *.yml directly in dir, sorted, each as its own config */
static int check_dir(struct run *r, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		diag_add(&r->d, DIAG_ERROR, dir, 0, 0, NULL, "cannot open directory");
		r->d.io_error = 1;
		return -1;
	}
	char **names = NULL;
	int n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' ||
		    !((len > 5 && !strcmp(e->d_name + len - 5, ".yaml")) || (len > 4 && !strcmp(e->d_name + len - 4, ".yml"))))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn)
				break;
			names = nn;
		}
		size_t sz = strlen(dir) + len + 2;
		if (!(names[n] = malloc(sz)))
			break;
		snprintf(names[n], sz, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
		n++;
	}
	closedir(d);
	if (n == 0) {
		diag_add(&r->d, DIAG_ERROR, dir, 0, 0, NULL, "no *.yaml or *.yml files in this directory");
		r->d.io_error = 1;
	}
	if (n)
		qsort(names, n, sizeof *names, cmpstr);
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			check(r, (const char *const *)&names[i], 1);
		free(names[i]);
	}
	free(names);
	return 0;
}

/* GitHub workflow commands: escape data and properties */
static void gh_escape(FILE *f, const char *s, int prop)
{
	for (; *s; s++) {
		if (*s == '%')
			fputs("%25", f);
		else if (*s == '\r')
			fputs("%0D", f);
		else if (*s == '\n')
			fputs("%0A", f);
		else if (prop && *s == ':')
			fputs("%3A", f);
		else if (prop && *s == ',')
			fputs("%2C", f);
		else
			fputc(*s, f);
	}
}

static void print_summary(const struct run *r)
{
	fprintf(stderr, "%d error%s, %d warning%s\n", r->d.errors, r->d.errors == 1 ? "" : "s",
		r->d.warnings, r->d.warnings == 1 ? "" : "s");
}

static int report(const struct run *r, enum format fmt)
{
	const struct diags *d = &r->d;
	if (fmt == FMT_JSON) {
		cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
		if (!root || !arr)
			return -1;
		cJSON_AddBoolToObject(root, "valid", d->errors == 0);
		cJSON_AddItemToObject(root, "errors", arr);
		for (int i = 0; i < d->n; i++) {
			const struct diag *x = &d->v[i];
			cJSON *o = cJSON_CreateObject();
			if (!o)
				break;
			if (x->file)
				cJSON_AddStringToObject(o, "file", x->file);
			else
				cJSON_AddNullToObject(o, "file");
			cJSON_AddNumberToObject(o, "line", x->line);
			cJSON_AddNumberToObject(o, "column", x->col);
			cJSON_AddStringToObject(o, "severity", diag_severity_name(x->sev));
			cJSON_AddStringToObject(o, "message", x->msg);
			if (x->key)
				cJSON_AddStringToObject(o, "key", x->key);
			else
				cJSON_AddNullToObject(o, "key");
			cJSON_AddItemToArray(arr, o);
		}
		cJSON_AddNumberToObject(root, "error_count", d->errors);
		if (r->servers)
			cJSON_AddItemReferenceToObject(root, "servers", r->servers);
		cJSON_AddNumberToObject(root, "warning_count", d->warnings);
		char *s = cJSON_PrintUnformatted(root);
		cJSON_Delete(root);
		if (!s)
			return -1;
		printf("%s\n", s);
		free(s);
		return 0;
	}
	if (fmt == FMT_TEXT && r->servers)
		print_servers(r->servers), fflush(stdout);
	for (int i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];
		if (fmt == FMT_GITHUB) {
			printf("::%s ", diag_severity_name(x->sev));
			if (x->file) {
				fputs("file=", stdout);
				gh_escape(stdout, x->file, 1);
				if (x->line > 0)
					printf(",line=%d", x->line);
				if (x->col > 0)
					printf(",col=%d", x->col);
			}
			fputs("::", stdout);
			gh_escape(stdout, x->msg, 0);
			fputc('\n', stdout);
		} else {
			char buf[2048];
			fprintf(stderr, "%s\n", diag_format(x, buf, sizeof buf));
		}
	}
	if (d->truncated)
		fprintf(fmt == FMT_GITHUB ? stdout : stderr, "%smls: too many findings; only the first %d are shown\n",
			fmt == FMT_GITHUB ? "::warning::" : "", DIAG_MAX);
	print_summary(r);
	return 0;
}

int validate_main(int argc, char **argv)
{
	static struct run r;
	const char *cfiles[MAX_ARGS + 1], *paths[MAX_ARGS + 1];
	int nc = 0, np = 0, strict = 0;
	enum format fmt = FMT_TEXT;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (!strcmp(a, "-c") || !strcmp(a, "--config") || !strcmp(a, "--profile") || !strcmp(a, "--format")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "mls validate: %s needs a value\n", a);
				return applet_usage("validate", 1);
			}
			val = argv[++i];
		} else if (!strncmp(a, "--config=", 9) || !strncmp(a, "--profile=", 10) || !strncmp(a, "--format=", 9)) {
			val = strchr(a, '=') + 1;
		}
		if (val && (!strcmp(a, "-c") || !strncmp(a, "--config", 8))) {
			if (nc == MAX_ARGS)
				goto toomany;
			cfiles[nc++] = val;
		} else if (val && !strncmp(a, "--profile", 9)) {
			if (r.nprofiles == MAX_ARGS)
				goto toomany;
			r.profiles[r.nprofiles++] = val;
		} else if (val && !strncmp(a, "--format", 8)) {
			if (!strcmp(val, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(val, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(val, "github"))
				fmt = FMT_GITHUB;
			else {
				fprintf(stderr, "mls validate: unknown format '%s' (text, json or github)\n", val);
				return 2;
			}
		} else if (!strcmp(a, "--strict")) {
			strict = 1;
		} else if (!strcmp(a, "--")) {
			for (i++; i < argc; i++) {
				if (np == MAX_ARGS)
					goto toomany;
				paths[np++] = argv[i];
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "mls validate: unknown option '%s'\n", a);
			return applet_usage("validate", 1);
		} else {
			if (np == MAX_ARGS)
				goto toomany;
			paths[np++] = a;
		}
	}
	if (nc == 0 && np == 0)
		cfiles[nc++] = CONFIG_DEFAULT_FILE;
	if (nc)
		check(&r, cfiles, nc);
	for (int i = 0; i < np; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			check_dir(&r, paths[i]);
		else
			check(&r, &paths[i], 1);
	}
	if (report(&r, fmt)) {
		fprintf(stderr, "mls validate: out of memory\n");
		return 1;
	}
	int rc = r.d.io_error ? 2 : r.d.errors ? 1 : (strict && r.d.warnings) ? 1 : 0;
	diags_free(&r.d);
	cJSON_Delete(r.servers);
	return rc;
toomany:
	fprintf(stderr, "mls validate: more than %d files or profiles\n", MAX_ARGS);
	return 2;
}
