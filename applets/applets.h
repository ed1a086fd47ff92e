/* The one list of applets. Each line expands into a prototype, a dispatch
 * table entry and the help text (see applets/mls.c).
 * APPLET(name, one-line summary, usage text); APPLET_AS("name", function
 * prefix, ...) for a name that is no C identifier (docker-run) */
#ifndef MLS_APPLETS_H
#define MLS_APPLETS_H

#define APPLET(n, s, u) APPLET_AS(#n, n, s, u)
#define MLS_APPLETS \
	APPLET(supervise, "run and supervise the services of a config (PID 1 or not)", \
		"mls supervise [-c FILE]... [--profile P]... [-d|--daemon] [--init|--no-init]") \
	APPLET(ctl, "control a running supervisor over its socket", \
		"mls ctl [-s SOCKET] [--json] [--timeout DURATION] [--no-wait] COMMAND [ARGS...]\n" \
		"commands: status [NAME...] | start|stop|restart NAME...|all | signal SIG NAME... |\n" \
		"  logs [-f] [-n N] [-t] NAME | history NAME | health NAME... | events | top | reload | shutdown |\n" \
		"  poweroff | reboot | halt (init mode) |\n" \
		"  version | run NAME[.N] [-c FILE]... | deploy NAME [REF] | rollback NAME") \
	APPLET(health, "probe a URL or HOST:PORT, or ask the supervisor whether its services are healthy", \
		"mls health [-t TIMEOUT] [--expect CODE[,CODE]...] [--ca FILE | --insecure] URL|HOST:PORT\n" \
		"       mls health [-t TIMEOUT] [-s SOCKET] [NAME...]\n" \
		"exit: 0 healthy, 1 unhealthy (why on stderr), 2 usage, 3 supervisor not reachable") \
	APPLET_AS("docker-run", docker_run, "run one container under the Docker CLI (run by supervise for image:)", \
		"mls docker-run --name NAME --image IMAGE [--build DIR] [--port PORT] [--stop-timeout SECS]\n" \
		"       [--stop-signal SIG] [--cli PROGRAM] [-e KEY]... [--env-file FILE]... [-- COMMAND...]\n" \
		"started by mls supervise for a service with image: or build: (docs/docker.md);\n" \
		"exit: the container's status, 127 when no docker CLI is found") \
	APPLET(gitwatch, "follow git repositories and deploy new commits (run by supervise)", \
		"mls gitwatch\n" \
		"started by mls supervise as the instance mls-gitwatch when the config has git: or config_git:;\n" \
		"its control connection is fd 3 (docs/git-deploy.md). Developer commands:\n" \
		"       mls gitwatch --clone URL DIR [--ref REF] [--ca FILE] [--timeout DURATION] [--token-file FILE [--user NAME]]\n" \
		"       mls gitwatch --fetch DIR [--ref REF] [--ca FILE] [--timeout DURATION] [--token-file FILE [--user NAME]]\n" \
		"  clone or fetch, then write REF's tree (branch, tag or commit; default: the remote's HEAD) into DIR") \
	APPLET(httpd, "serve the JSON API, events and metrics over HTTP(S) (run by supervise)", \
		"mls httpd\n" \
		"started by mls supervise as the instance mls-httpd when the config has http:;\n" \
		"its control connection is fd 3 (docs/api.md)") \
	APPLET(import, "print the mls config for another tool's setup (AutoExec)", \
		"mls import autoexec FILE|-\n" \
		"FILE: AutoExec's services list, one 'URL [BRANCH] [DIR]' a line ('-': stdin);\n" \
		"prints the config on stdout. exit: 0 all converted, 1 lines left out (stderr), 2 usage") \
	APPLET(validate, "check config files and report every problem", \
		"mls validate [-c FILE]... [--profile P]... [--format text|json|github] [--strict] [FILE|DIR]...")

#define APPLET_AS(name, fn, summary, usage) int fn##_main(int argc, char **argv);
MLS_APPLETS
#undef APPLET_AS

/* Shared by applets: print "usage: ..." for the applet to stdout (help) or
 * stderr (usage error). Returns the exit status to use (0 or 2). */
int applet_usage(const char *name, int is_error);

/* poweroff, reboot, halt: links only, like init (applets/ctl/ctl_power.c) */
int power_main(int argc, char **argv);

#endif
