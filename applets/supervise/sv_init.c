/* sv_init.c: init mode (docs/init.md): the decision, the boot steps in
 * their order, the shutdown requests and the last steps. The steps
 * themselves are in lib/initmode.c; the call sites are listed in
 * sv_init.h. Every step logs one line ("init: ...") and none is fatal. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>
#include "initmode.h"
#include "jbuf.h"
#include "sv.h"
#include "sv_init.h"

#define SEED_FILE "/var/lib/mls/random-seed"
#define KILL_GRACE_MS 3000 /* SIGTERM to what is left, then SIGKILL */

static int opt_init;            /* 1 --init, -1 --no-init, 0 detect */
static int active;              /* init mode is on */
static int early_done;          /* the early mounts ran */
static int decided;             /* the first config was read: init mode is what it is */
static int resumed;             /* exec'd by a live upgrade: the boot steps ran before */
static enum init_action action; /* what the shutdown ends with */

int sv_init_option(const char *w)
{
	if (!strcmp(w, "--init"))
		opt_init = 1;
	else if (!strcmp(w, "--no-init"))
		opt_init = -1;
	else
		return 0;
	return 1;
}

int sv_init_active(void)
{
	return active;
}

int sv_init_possible(void)
{
	return active || (!decided && getpid() == 1 && opt_init >= 0);
}

static void step(enum init_result r, const char *msg)
{
	sv_log(r == INIT_FAILED ? LVL_WARN : LVL_INFO, NULL, "init: %s%s", r == INIT_SKIPPED ? "skipped: " : "", msg);
}

/* /proc and /dev before the console (it is a node on /dev), then the
 * rest; the lines of the first two once the console is there */
static void early_steps(void)
{
	char m0[320], m1[320], mc[320], msg[320];
	if (early_done)
		return;
	early_done = 1;
	enum init_result r0 = init_mount(&init_early_mounts[0], m0, sizeof m0);
	enum init_result r1 = init_mount(&init_early_mounts[1], m1, sizeof m1);
	enum init_result rc = init_console(mc, sizeof mc);
	step(r0, m0);
	step(r1, m1);
	step(rc, mc);
	for (int k = 2; k < init_nearly_mounts; k++)
		step(init_mount(&init_early_mounts[k], msg, sizeof msg), msg);
}

void sv_init_early(int adopted)
{
	struct init_probe p;
	char buf[4096], why[160];
	init_probe_read(&p, buf, sizeof buf);
	enum init_verdict v = init_detect(&p, why, sizeof why);
	if (v == INIT_NOT_PID1) {
		if (opt_init == 1)
			sv_log(LVL_WARN, NULL, "--init: ignored: init mode is for PID 1 only (this is pid %d)", (int)getpid());
		return;
	}
	active = opt_init == 1 || (opt_init == 0 && v == INIT_SYSTEM);
	resumed = adopted;
	if (active && !resumed)
		early_steps();
	sv_log(LVL_INFO, NULL, "init mode %s: %s%s%s", active ? "on" : "off", why,
		opt_init == 1 ? " (--init)" : opt_init == -1 ? " (--no-init)" : "",
		active && resumed ? " (live upgrade: the boot steps ran before)" : "");
}

void sv_init_config(const struct config *cfg)
{
	char msg[320];
	const struct init_cfg *in = &cfg->init;
	if (!active && in->enabled == 1 && getpid() == 1 && opt_init >= 0) {
		active = 1;
		sv_log(LVL_INFO, NULL, "init mode on: init: true in the config");
		if (!resumed)
			early_steps();
	}
	decided = 1;
	if (!active) {
		/* as PID 1 the loader did not warn: init mode was still possible */
		if (in->set && getpid() == 1)
			sv_log(LVL_WARN, NULL, "init: applies only when mls supervise is the system's init (PID 1 "
				"outside a container, or --init): ignored (docs/init.md)");
		return;
	}
	if (resumed)
		return;
	if (in->root_ro)
		sv_log(LVL_INFO, NULL, "init: / left as it is (init.root_ro)");
	else
		step(init_remount_root(1, msg, sizeof msg), msg);
	step(init_hostname("/etc/hostname", msg, sizeof msg), msg);
	step(init_loopback(msg, sizeof msg), msg);
	enum init_result r = init_seed_load(SEED_FILE, msg, sizeof msg);
	step(r, msg);
	if (r == INIT_DONE) /* never the same seed twice, even after a crash */
		step(init_seed_save(SEED_FILE, 1, msg, sizeof msg), msg);
	if (in->tmp)
		step(init_mount_opts("tmpfs", "/tmp", "tmpfs", "nosuid,nodev,mode=1777", msg, sizeof msg), msg);
	/* modules first: a mount or a sysctl key may need one */
	for (int k = 0; k < in->modules.n; k++)
		step(init_modprobe(in->modules.v[k], msg, sizeof msg), msg);
	for (int k = 0; k < in->nmounts; k++) {
		const struct init_mnt *m = &in->mounts[k];
		step(init_mount_opts(m->source, m->target, m->type, m->options, msg, sizeof msg), msg);
	}
	for (int k = 0; k < in->sysctl_keys.n; k++)
		step(init_sysctl(in->sysctl_keys.v[k], in->sysctl_values.v[k], msg, sizeof msg), msg);
}

/* A poweroff, reboot or halt request (signal or control socket): the
 * normal shutdown (every service in reverse dependency order), then
 * sv_init_finish(); a second request hurries it (SIGKILL) */
static void request(enum init_action a, const char *how)
{
	char why[160];
	action = a;
	if (SV.shutting_down) {
		snprintf(why, sizeof why, "%s again (%s): no more grace periods, SIGKILL", init_action_name(a), how);
		sv_shutdown(1, why);
		return;
	}
	snprintf(why, sizeof why, "%s (%s): stopping every service", init_action_name(a), how);
	sv_shutdown(0, why);
}

static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)l;
	(void)ctx;
	int s = (int)si->ssi_signo;
	request(s == SIGUSR2 ? INIT_ACT_POWEROFF : INIT_ACT_REBOOT,
		s == SIGUSR2 ? "SIGUSR2" : s == SIGINT ? "SIGINT, Ctrl-Alt-Del" : "SIGTERM");
}

void sv_init_signals(struct loop *l)
{
	if (!active)
		return;
	/* Ctrl-Alt-Del becomes SIGINT to PID 1 instead of an immediate reboot */
	if (reboot(RB_DISABLE_CAD) < 0)
		sv_log(LVL_WARN, NULL, "init: reboot(RB_DISABLE_CAD): %s", strerror(errno));
	loop_add_signal(l, SIGUSR2, on_signal, NULL);
	loop_add_signal(l, SIGTERM, on_signal, NULL);
	loop_add_signal(l, SIGINT, on_signal, NULL);
}

void sv_init_ctl(struct ctlconn *c, int argc, char **argv)
{
	const char *name = argv[0];
	enum init_action a = !strcmp(name, "poweroff") ? INIT_ACT_POWEROFF
			     : !strcmp(name, "reboot") ? INIT_ACT_REBOOT : INIT_ACT_HALT;
	struct jbuf b = { 0 };
	if (argc != 1 || !active) {
		jb_puts(&b, "{\"ok\":false,\"error\":");
		char msg[256];
		if (argc != 1)
			snprintf(msg, sizeof msg, "%s takes no arguments", name);
		else
			snprintf(msg, sizeof msg, "%s: mls supervise is not the system's init (init mode is off: "
				 "not PID 1, or PID 1 of a container; see docs/init.md); use shutdown to stop it", name);
		jb_str(&b, msg);
		jb_puts(&b, "}\n");
	} else
		jb_printf(&b, "{\"ok\":true,\"action\":\"%s\"}\n", name);
	if (!b.oom)
		ctlsrv_reply(c, b.p, b.len);
	jb_free(&b);
	if (argc == 1 && active)
		request(a, "requested over the control socket");
}

static void report(enum init_result r, const char *msg, void *ctx)
{
	(void)ctx;
	step(r, msg);
}

void sv_init_finish(int rc)
{
	char msg[320];
	if (!active)
		return;
	if (action == INIT_ACT_NONE) {
		/* nobody asked: `shutdown`, a critical service failed, or
		 * supervise could not start. Halting leaves the console's last lines on
		 * screen and never loops the way a reboot on a bad config would. */
		action = INIT_ACT_HALT;
		sv_log(LVL_ERROR, NULL, "init: supervise ended without a poweroff, reboot or halt request (status %d): "
			"halting", rc);
	}
	/* the lock, the journal, the loop's fds: nothing may keep /run busy */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	sv_log(LVL_INFO, NULL, "init: %s: SIGTERM to every process left", init_action_name(action));
	int any, killed = init_kill_all(KILL_GRACE_MS, &any);
	sv_log(LVL_INFO, NULL, "init: %s", !any ? "no process was left" : killed ? "SIGKILL to what was still there after "
		"the grace period" : "every process left ended on SIGTERM");
	step(init_seed_save(SEED_FILE, 0, msg, sizeof msg), msg);
	sync();
	init_unmount_all(report, NULL);
	sync();
	sv_log(LVL_INFO, NULL, "init: reboot(2): %s", init_action_name(action));
	if (init_reboot(action) < 0)
		sv_log(LVL_ERROR, NULL, "init: reboot(2) failed: %s; PID 1 stays (the kernel would panic if it exited)",
			strerror(errno));
	for (;;) { /* PID 1 never exits */
		struct timespec ts = { 3600, 0 };
		nanosleep(&ts, NULL);
	}
}
