/* sv_init.h: init mode, mls supervise as the system's PID 1 (docs/init.md).
 * sv_init.c sits beside sv_main.c (it uses sv_log, sv_shutdown and the
 * loop); the steps themselves are lib/initmode.c. The call sites:
 *
 *   parse_args      sv_init_option(word)    --init, --no-init
 *   before loading  sv_init_early(adopted)  detection; the early mounts,
 *                                           the console
 *   sv_load         sv_init_possible()      init: warns outside init mode
 *   after loading   sv_init_config(cfg)     init: true; root rw, hostname,
 *                                           lo, seed, /tmp, init.mounts,
 *                                           sysctl, modules
 *   setup_process   sv_init_signals(loop)   SIGUSR2, SIGTERM, SIGINT
 *   sv_ctl.c        sv_init_ctl()           poweroff, reboot, halt
 *   supervise_main  sv_init_finish(rc)      the last steps, reboot(2);
 *                                           never returns in init mode */
#ifndef MLS_SV_INIT_H
#define MLS_SV_INIT_H

#include "config.h"
#include "ctlsrv.h"
#include "loop.h"

/* 1 when word is --init or --no-init (taken), else 0 */
int sv_init_option(const char *word);
/* Decides init mode (PID 1, not a container, or --init; never with
 * --no-init) and, in it, mounts /proc, /dev, /sys, /dev/pts, /dev/shm,
 * /run, cgroup2 and takes /dev/console for fds 0-2. adopted: this process
 * was exec'd by a live upgrade (docs/upgrade.md): the boot steps ran
 * before it, none runs again (here or in sv_init_config) */
void sv_init_early(int adopted);
/* Is init mode on, or may the config still turn it on (PID 1 without
 * --no-init)? */
int sv_init_possible(void);
int sv_init_active(void);
/* After the first load: init: true turns init mode on (PID 1 only); in
 * init mode the config-driven steps run; outside it nothing */
void sv_init_config(const struct config *cfg);
/* In init mode: SIGUSR2 poweroff, SIGTERM and SIGINT (Ctrl-Alt-Del, after
 * reboot(RB_DISABLE_CAD)) reboot */
void sv_init_signals(struct loop *l);
/* The control requests poweroff, reboot, halt (refused outside init mode) */
void sv_init_ctl(struct ctlconn *c, int argc, char **argv);
/* After the services stopped (or supervise could not start): outside init
 * mode returns; in it kills what is left, saves the seed, syncs,
 * unmounts and reboots, and never returns */
void sv_init_finish(int rc);

#endif
