/* sv_upgrade.h: live upgrade of mls supervise (docs/upgrade.md): the
 * process serialises its state into a memfd and execs the new binary,
 * which adopts it: same PID, same children, same fds. A layer of its own
 * beside sv_ctl.c (it calls everything below: sv_step.c, sv_child.c,
 * sv_sched.c, sv_log.c); sv_main.c calls it at start. */
#ifndef MLS_SV_UPGRADE_H
#define MLS_SV_UPGRADE_H

#include "sv.h"

/* First thing in supervise_main (argv is supervise's): 0 a normal start;
 * 1 this process was exec'd by an upgrade and adopts the state (the
 * state read, MLS_UPGRADE_* removed from the environment); 2 a check run
 * (MLS_UPGRADE_CHECK: the old process asks whether this binary reads the
 * state and the config; exit 0 once the config loaded); 3 a check run
 * that refused the state (exit 1). Never fails otherwise: a state that
 * cannot be read makes it exec the old binary again, or, if that is
 * impossible, kill every child (by process group) and start afresh. */
int sv_upgrade_begin(int argc, char **argv);

/* The config did not load: NULL for a normal start or a check (the
 * caller exits); when adopting (as PID 1, exiting would lose every
 * child) the old binary is exec'd again, or, when that is impossible,
 * the files are loaded again every 5 s until they are valid. d holds
 * the messages. */
struct config *sv_upgrade_bad_config(struct diags *d);

/* Adopting: the inherited state_dir lock (SV.lock_fd); 0 or -1 */
int sv_upgrade_lock(void);
/* Adopting: the inherited listening control socket, else -1 */
int sv_upgrade_listen_fd(void);
/* Adopting, after the first sv_apply(): every instance takes its
 * processes, fds, timers, counters and log buffers from the state;
 * the journal is opened for appending (not replayed); the client that
 * asked gets its reply; children that exited meanwhile are reaped */
void sv_upgrade_adopt(void);

/* `upgrade [PATH]` (docs/protocol.md), permission shutdown */
void sv_upgrade_request(struct ctlconn *c, int argc, char **argv);

/* SIGUSR2 (docs/upgrade.md). MERGE POINT for init mode: there SIGUSR2
 * means poweroff (issue 13); init mode registers its own handler for
 * SIGUSR2 and bypasses this one. sv_upgrade_signal() is the upgrade
 * itself (to the binary at SV.self_exe), for whoever routes to it. */
void sv_upgrade_on_sigusr2(struct loop *l, const struct signalfd_siginfo *si, void *ctx);
void sv_upgrade_signal(void);

#endif
