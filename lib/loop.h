/* loop.h: the event loop every applet runs.
 *
 * One poll() set; signals arrive as fd events through one signalfd; timers
 * are absolute CLOCK_MONOTONIC deadlines in milliseconds kept in a binary
 * min-heap; close() of an fd can be deferred until the current dispatch
 * round is over (lighttpd style), so its number cannot be reused while
 * events for it are still being handled. There is no periodic tick: with no
 * timer pending the loop sleeps in poll(-1) and wakes only for an event.
 *
 * The documentation of the API is here; loop.c points back to it.
 *
 * Conventions
 *  - Functions return 0 (or an id / a count) on success, -1 with errno set
 *    on failure. Allocation failure is ENOMEM. Nothing here prints, exits
 *    or aborts.
 *  - Ids (of fd entries and of timers) are int64_t, always >= 1, so a
 *    zeroed struct field (0) can mean "none". An id is never reused for
 *    another entry of the same loop (a generation count is part of it), so
 *    a stale id is refused with ENOENT instead of hitting a newer entry.
 *  - Callbacks run in the loop's thread (there are no threads) from
 *    loop_run_once() or loop_run(). A callback may call any function here
 *    except loop_run_once(), loop_run() (EBUSY) and loop_free().
 *  - Callbacks should do a bounded amount of work per call (e.g. one read
 *    of at most N bytes): the loop is level-triggered and calls each ready
 *    entry once per round, so a busy fd cannot starve the others unless its
 *    callback drains it without bound.
 *  - Capacity is bounded: LOOP_MAX_FDS fd entries (EMFILE past it; the
 *    signalfd counts as one) and LOOP_MAX_TIMERS pending timers (ENOSPC
 *    past it). Memory grows by doubling from a small start and is not
 *    returned before loop_free(); an fd entry or a timer costs about
 *    52 bytes (x86_64), the loop itself about 1.8 KiB.
 *  - One loop per process should own signals (see loop_add_signal()).
 */
#ifndef MLS_LOOP_H
#define MLS_LOOP_H

#include <poll.h>
#include <stdint.h>
#include <sys/signalfd.h>

#define LOOP_MAX_FDS 4096     /* fd entries per loop, deleted-in-round included */
#define LOOP_MAX_TIMERS 65536 /* pending timers per loop */

struct loop;

/* fd callback. `revents` is what poll() reported, restricted to the
 * entry's current events plus POLLERR, POLLHUP and POLLNVAL (always
 * reported by poll). `id` is the entry's id, so the callback can modify or
 * delete its own entry. POLLNVAL means the fd was closed behind the loop's
 * back: delete the entry, or the loop will report it on every round. */
typedef void loop_fd_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx);

/* Signal callback: one call per signalfd_siginfo read. Standard signals
 * coalesce while pending (two SIGCHLD may give one call): a SIGCHLD
 * callback must reap with waitpid(-1, ..., WNOHANG) until it returns 0. */
typedef void loop_signal_cb(struct loop *l,
	const struct signalfd_siginfo *si, void *ctx);

/* Timer callback. The timer has already been removed when this runs: its
 * id is no longer valid (loop_timer_cancel() on it gives ENOENT), and the
 * callback may add timers, including a new one for itself. */
typedef void loop_timer_cb(struct loop *l, int64_t id, void *ctx);

/* ------------------------------------------------------------ lifetime */

/* A new, empty loop, or NULL (errno ENOMEM). */
struct loop *loop_new(void);

/* Frees the loop. Fds whose close was deferred with loop_close_fd() are
 * closed; other registered fds are left open (the caller owns them). The
 * signalfd is closed and every signal that loop_add_signal() blocked, and
 * that was not blocked before, is unblocked again. Not from a callback. */
void loop_free(struct loop *l);

/* ----------------------------------------------------------------- fds */

/* Registers `fd` for `events` (POLLIN, POLLOUT, POLLPRI, ...; 0 registers
 * it paused, see loop_mod_fd()). Returns the entry's id (>= 1), or -1 with
 * EBADF (fd < 0), EINVAL (no callback), EMFILE (LOOP_MAX_FDS reached),
 * ENOMEM. The same fd may be registered twice; each entry then gets its
 * own events, which is rarely what you want. An entry added during a
 * dispatch round gets no events before the next round. */
int64_t loop_add_fd(struct loop *l, int fd, int events, loop_fd_cb *cb,
	void *ctx);

/* Changes an entry's events. 0 pauses it: poll() then ignores the fd
 * entirely, POLLHUP and POLLERR included (so a hung-up pipe that is paused
 * does not make the loop spin). Takes effect at once: events of the
 * current round that the new set excludes are not delivered. Returns 0, or
 * -1 with ENOENT (unknown or deleted id). */
int loop_mod_fd(struct loop *l, int64_t id, int events);

/* Removes an entry; the fd stays open. Safe at any time, including from
 * any callback during dispatch: the entry is marked dead at once (no
 * further callback, even for events already polled in this round) and
 * dropped from the poll set after the round. If the caller then closes the
 * fd and the number is reused by a new entry in the same round, the new
 * entry does not get the old one's events. Returns 0, or -1 with ENOENT. */
int loop_del_fd(struct loop *l, int64_t id);

/* Removes an entry like loop_del_fd() and closes its fd: during dispatch
 * the close() happens after the round, so the fd number cannot be handed
 * out again while the round runs; outside dispatch it closes at once.
 * Returns 0, or -1 with ENOENT (the fd is then not closed). */
int loop_close_fd(struct loop *l, int64_t id);

/* ------------------------------------------------------------- signals */

/* Routes signal `signo` to `cb`: blocks it with sigprocmask() and adds it
 * to the loop's signalfd (one per loop, SFD_NONBLOCK | SFD_CLOEXEC,
 * created on first use, registered as an fd entry). A second call for the
 * same signal replaces the callback. Dispositions are not changed, but
 * note that SIGCHLD set to SIG_IGN (which a process may inherit) makes the
 * kernel reap children by itself: a supervisor must set it to SIG_DFL.
 * Returns 0, or -1 with EINVAL (SIGKILL, SIGSTOP, out of range, or a
 * signal the C library reserves), EMFILE, ENOMEM, or signalfd()'s errno.
 * Signals are per process: if two loops register one signal, whichever
 * reads it first gets it. */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb,
	void *ctx);

/* Stops routing `signo`: takes it out of the signalfd and unblocks it if
 * loop_add_signal() blocked it. A pending instance is then delivered by
 * its disposition. Returns 0, or -1 with ENOENT (not registered). */
int loop_del_signal(struct loop *l, int signo);

/* For a child between fork() and exec(): sets every signal 1..NSIG-1 that
 * can be changed to SIG_DFL (SIGKILL, SIGSTOP and the C library's reserved
 * ones are skipped), then unblocks all signals, so the program it execs
 * starts with an empty mask and default dispositions (tini's
 * restore_signals). Signals blocked by the loop and ignored ones (e.g.
 * SIGPIPE) would otherwise be inherited across exec. The signalfd is
 * CLOEXEC and goes away at exec by itself. Async-signal-safe (only
 * sigaction() and sigprocmask()). Returns 0, or -1 if sigprocmask()
 * failed. */
int loop_reset_signals_for_child(void);

/* -------------------------------------------------------------- timers */

/* CLOCK_MONOTONIC now, in milliseconds (truncated). */
int64_t loop_now_ms(void);

/* Calls `cb` once, in the first round whose clock reading (taken once per
 * round, after poll() and the fd callbacks) is >= `deadline_ms` (absolute,
 * in the loop_now_ms() clock). A timer added by a timer callback never
 * fires in the round that is running, even if already due: it fires in the
 * next one (whose poll() then does not wait), so a callback that re-adds
 * itself with a past deadline cannot spin inside one round. One added by
 * an fd callback fires in the same round if it is due. Timers fire in
 * deadline order; equal deadlines fire in the order they were added.
 * Returns the timer's id (>= 1), or -1 with EINVAL (no
 * callback), ENOSPC (LOOP_MAX_TIMERS pending), ENOMEM. O(log n). */
int64_t loop_timer_at(struct loop *l, int64_t deadline_ms, loop_timer_cb *cb,
	void *ctx);

/* Cancels a pending timer; it will not fire, even if it is due in the
 * round that is running. Returns 0, or -1 with ENOENT (unknown id, or the
 * timer already fired or was cancelled). O(log n): the timer keeps its
 * heap index. */
int loop_timer_cancel(struct loop *l, int64_t id);

/* Milliseconds until the earliest timer is due (0 if overdue, at most
 * INT_MAX), or -1 if no timer is pending: the timeout loop_run_once() gives
 * poll() before applying its max_wait_ms. */
int loop_next_timeout_ms(const struct loop *l);

/* ------------------------------------------------------- introspection */

/* For a live upgrade (applets/supervise/sv_upgrade.c), which hands the
 * fds and the deadlines of a process's entries to its successor: the fd of
 * a live entry, or -1 (ENOENT); the deadline of a pending timer, or -1
 * (ENOENT). O(1). */
int loop_fd_of(const struct loop *l, int64_t id);
int64_t loop_timer_deadline(const struct loop *l, int64_t id);

/* ------------------------------------------------------------- running */

/* One round: poll() with the timeout from the timer heap, bounded by
 * max_wait_ms (-1 = no bound), then calls the callbacks of ready fd
 * entries (in registration order, signals included), then those of the
 * timers due, then closes deferred fds and compacts the poll set. EINTR
 * from poll() counts as a round with no fd event. If nothing at all is
 * registered (no fd entry, no timer) and max_wait_ms is -1, returns 0 at
 * once instead of sleeping forever. Returns the number of callbacks made,
 * or -1 with EBUSY (called from a callback) or poll()'s errno (EINVAL when
 * the fd count passes RLIMIT_NOFILE, ENOMEM). */
int loop_run_once(struct loop *l, int max_wait_ms);

/* Runs rounds until loop_stop() is called (returns 0 after the round in
 * which it was), until nothing is registered any more (returns 0), or
 * until loop_run_once() fails (returns -1, errno kept). The stop request is
 * cleared on return, so the loop can be run again; a loop_stop() made
 * before loop_run() makes it return at once. */
int loop_run(struct loop *l);

/* Asks loop_run() to return after the current round. */
void loop_stop(struct loop *l);

#endif
