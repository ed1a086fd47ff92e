/* Unit tests for lib/loop.c: fds, deferred close, timers, signals through
 * signalfd, no wakeups when idle. Output is TAP; exit status 1 if any test
 * failed. Waits are bounded poll() timeouts on conditions, never sleeps;
 * alarm() is a watchdog so a hang fails the run instead of blocking it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define WATCHDOG 60 /* s: the whole run; SIGALRM kills a hung test */

/* ------------------------------------------------------------- helpers */

/* What an fd callback saw */
struct rec {
	int calls;
	int64_t id;
	int fd;
	int revents;
	void *ctx;
	/* an action to take from the callback */
	int64_t del_id;      /* loop_del_fd() this one */
	int64_t close_id;    /* loop_close_fd() this one */
	int close_fd_open;   /* the fd of close_id was still open in the cb */
	int closed_fd;       /* its number */
	int del_self;
	int drain;           /* read what is there */
};

static void fd_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	struct rec *r = ctx;

	r->calls++;
	r->id = id;
	r->fd = fd;
	r->revents = revents;
	r->ctx = ctx;
	if (r->del_id)
		loop_del_fd(l, r->del_id);
	if (r->close_id) {
		loop_close_fd(l, r->close_id);
		r->close_fd_open = fcntl(r->closed_fd, F_GETFD) != -1;
	}
	if (r->del_self)
		loop_del_fd(l, id);
	if (r->drain) {
		char buf[64];
		while (read(fd, buf, sizeof buf) > 0)
			;
	}
}

static void put(int fd)
{
	if (write(fd, "x", 1) != 1)
		tap_diag("write: %s", strerror(errno));
}

static int mkpipe(int p[2])
{
	return pipe2(p, O_NONBLOCK | O_CLOEXEC);
}

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* -------------------------------------------------------------- basics */

static void test_empty(void)
{
	struct loop *l = loop_new();
	int64_t t0;

	OK(l != NULL, "loop_new");
	if (!l)
		exit(1);
	OK(loop_next_timeout_ms(l) == -1, "no timers: timeout is -1");
	t0 = loop_now_ms();
	OK(loop_run_once(l, -1) == 0 && loop_now_ms() - t0 < 100,
		"run_once(-1) with nothing registered returns at once");
	OK(loop_run(l) == 0, "loop_run with nothing registered returns 0");
	errno = 0;
	OK(loop_add_fd(l, -1, POLLIN, fd_cb, NULL) == -1 && errno == EBADF,
		"add_fd(-1): EBADF");
	errno = 0;
	OK(loop_add_fd(l, 0, POLLIN, NULL, NULL) == -1 && errno == EINVAL,
		"add_fd without callback: EINVAL");
	errno = 0;
	OK(loop_mod_fd(l, 0, POLLIN) == -1 && errno == ENOENT,
		"mod_fd(0): ENOENT");
	errno = 0;
	OK(loop_del_fd(l, 12345) == -1 && errno == ENOENT,
		"del_fd(bogus): ENOENT");
	errno = 0;
	OK(loop_timer_cancel(l, 1) == -1 && errno == ENOENT,
		"timer_cancel(bogus): ENOENT");
	loop_free(l);
	loop_free(NULL);
}

/* ------------------------------------------------------------------ fds */

static void test_pipe(void)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	int p[2];
	int64_t id;
	char c;

	if (mkpipe(p) < 0)
		exit(1);
	id = loop_add_fd(l, p[0], POLLIN, fd_cb, &r);
	OK(id >= 1, "add_fd returns an id >= 1");
	OK(loop_run_once(l, 0) == 0 && r.calls == 0,
		"pipe empty: no callback");

	put(p[1]);
	OK(loop_run_once(l, 1000) == 1 && r.calls == 1,
		"pipe written: one callback");
	OK(r.id == id && r.fd == p[0] && r.ctx == &r && r.revents == POLLIN,
		"callback gets id, fd, ctx and POLLIN");
	OK(loop_run_once(l, 1000) == 1 && r.calls == 2,
		"level-triggered: unread data reported again");
	OK(read(p[0], &c, 1) == 1, "read the byte");

	OK(loop_mod_fd(l, id, 0) == 0, "mod_fd to 0 (pause)");
	put(p[1]);
	r.calls = 0;
	OK(loop_run_once(l, 0) == 0 && r.calls == 0,
		"paused entry: no callback though readable");
	OK(loop_mod_fd(l, id, POLLIN) == 0 &&
		loop_run_once(l, 1000) == 1 && r.calls == 1,
		"resumed entry: callback");
	OK(read(p[0], &c, 1) == 1, "read the byte");

	/* POLLHUP is reported whatever the events, except when paused */
	close(p[1]);
	loop_mod_fd(l, id, 0);
	r.calls = 0;
	OK(loop_run_once(l, 0) == 0 && r.calls == 0,
		"paused entry with a hung-up pipe: no callback, no spin");
	loop_mod_fd(l, id, POLLIN);
	OK(loop_run_once(l, 1000) == 1 && (r.revents & POLLHUP),
		"resumed: POLLHUP");

	OK(loop_del_fd(l, id) == 0, "del_fd");
	errno = 0;
	OK(loop_mod_fd(l, id, POLLIN) == -1 && errno == ENOENT,
		"mod_fd on a deleted id: ENOENT");
	errno = 0;
	OK(loop_del_fd(l, id) == -1 && errno == ENOENT,
		"del_fd twice: ENOENT");
	OK(is_open(p[0]), "del_fd leaves the fd open");

	/* A new entry in the freed slot gets a different id */
	{
		int64_t id2 = loop_add_fd(l, p[0], POLLIN, fd_cb, &r);
		OK(id2 >= 1 && id2 != id, "slot reused with a new id");
		errno = 0;
		OK(loop_del_fd(l, id) == -1 && errno == ENOENT,
			"stale id does not hit the new entry");
		OK(loop_del_fd(l, id2) == 0, "new id deletes");
	}

	/* POLLOUT on the write end of a fresh pipe */
	{
		int q[2];
		struct rec w = { 0 };
		if (mkpipe(q) < 0)
			exit(1);
		loop_add_fd(l, q[1], POLLOUT, fd_cb, &w);
		OK(loop_run_once(l, 1000) == 1 && w.revents == POLLOUT,
			"POLLOUT on an empty pipe's write end");
		close(q[0]);
		close(q[1]);
	}
	close(p[0]);
	loop_free(l);
}

static void test_del_in_dispatch(void)
{
	struct loop *l = loop_new();
	struct rec a = { 0 }, b = { 0 };
	int pa[2], pb[2];
	int64_t idb;

	if (mkpipe(pa) < 0 || mkpipe(pb) < 0)
		exit(1);
	loop_add_fd(l, pa[0], POLLIN, fd_cb, &a);
	idb = loop_add_fd(l, pb[0], POLLIN, fd_cb, &b);
	put(pa[1]);
	put(pb[1]);
	a.del_id = idb;
	/* Both are ready in this round; a comes first and deletes b */
	OK(loop_run_once(l, 1000) == 1 && a.calls == 1 && b.calls == 0,
		"entry deleted by an earlier callback of the round: not called");
	a.del_id = 0;
	errno = 0;
	OK(loop_mod_fd(l, idb, POLLIN) == -1 && errno == ENOENT,
		"deleted in dispatch: id gone");
	OK(loop_run_once(l, 0) == 1 && b.calls == 0,
		"deleted entry gets nothing in later rounds");

	/* A callback deleting itself */
	a.calls = 0;
	a.del_self = 1;
	OK(loop_run_once(l, 0) == 1 && a.calls == 1, "callback deletes itself");
	OK(loop_run_once(l, 0) == 0 && a.calls == 1,
		"self-deleted entry not called again");
	a.del_self = 0;

	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
	loop_free(l);
}

/* The fd-reuse case needs a callback that closes and reopens */
static struct {
	int64_t victim_id;
	int victim_fd;
	int newp[2];
	int64_t new_id;
	struct rec *newrec;
	int reused;          /* the new pipe got the victim's number */
} reuse;

static void reuse_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	(void)id;
	(void)fd;
	(void)revents;
	((struct rec *)ctx)->calls++;
	if (!reuse.victim_id)
		return;
	loop_del_fd(l, reuse.victim_id);
	close(reuse.victim_fd);
	reuse.victim_id = 0;
	if (mkpipe(reuse.newp) < 0)
		return;
	reuse.reused = reuse.newp[0] == reuse.victim_fd;
	reuse.new_id = loop_add_fd(l, reuse.newp[0], POLLIN, fd_cb,
		reuse.newrec);
}

static void test_fd_reuse(void)
{
	struct loop *l = loop_new();
	struct rec a = { 0 }, b = { 0 }, c = { 0 };
	int pa[2], pb[2];

	if (mkpipe(pa) < 0 || mkpipe(pb) < 0)
		exit(1);
	loop_add_fd(l, pa[0], POLLIN, reuse_cb, &a);
	reuse.victim_id = loop_add_fd(l, pb[0], POLLIN, fd_cb, &b);
	reuse.victim_fd = pb[0];
	reuse.newrec = &c;
	put(pa[1]);
	put(pb[1]);
	/* pb's write end stays open: the new pipe's read end takes the
	 * number of pb[0], its write end the next free one */
	loop_run_once(l, 1000);
	OK(reuse.reused, "fd number reused within the round (fd %d)",
		reuse.victim_fd);
	OK(b.calls == 0 && c.calls == 0,
		"neither the old entry nor the new one on its fd number "
		"gets the old POLLIN");
	OK(loop_run_once(l, 0) == 1 && c.calls == 0,
		"next round: the new entry, empty, still not called");
	put(reuse.newp[1]);
	OK(loop_run_once(l, 0) == 2 && c.calls == 1,
		"new entry called once written to");
	close(pa[0]);
	close(pa[1]);
	close(pb[1]);
	close(reuse.newp[0]);
	close(reuse.newp[1]);
	loop_free(l);
}

static void test_deferred_close(void)
{
	struct loop *l = loop_new();
	struct rec a = { 0 }, b = { 0 };
	int pa[2], pb[2];
	int64_t ida, idb;

	if (mkpipe(pa) < 0 || mkpipe(pb) < 0)
		exit(1);
	ida = loop_add_fd(l, pa[0], POLLIN, fd_cb, &a);
	idb = loop_add_fd(l, pb[0], POLLIN, fd_cb, &b);
	put(pa[1]);
	put(pb[1]);
	a.close_id = idb;
	a.closed_fd = pb[0];
	OK(loop_run_once(l, 1000) == 1 && a.calls == 1 && b.calls == 0,
		"close_fd in dispatch: the entry gets no callback");
	OK(a.close_fd_open, "close_fd in dispatch: fd still open in the round");
	OK(!is_open(pb[0]) && errno == EBADF,
		"close_fd in dispatch: fd closed after the round");
	errno = 0;
	OK(loop_close_fd(l, idb) == -1 && errno == ENOENT,
		"close_fd on a gone id: ENOENT");

	OK(loop_close_fd(l, ida) == 0 && !is_open(pa[0]),
		"close_fd outside dispatch closes at once");
	close(pa[1]);
	close(pb[1]);
	loop_free(l);
}

static void test_fd_limit(void)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	static int64_t ids[LOOP_MAX_FDS];
	int n = 0, p[2];
	int64_t extra;

	if (mkpipe(p) < 0)
		exit(1);
	while (n < LOOP_MAX_FDS) {
		ids[n] = loop_add_fd(l, p[0], POLLIN, fd_cb, &r);
		if (ids[n] < 0)
			break;
		n++;
	}
	OK(n == LOOP_MAX_FDS, "LOOP_MAX_FDS (%d) entries fit", n);
	errno = 0;
	extra = loop_add_fd(l, p[0], POLLIN, fd_cb, &r);
	OK(extra == -1 && errno == EMFILE, "one more: EMFILE");
	put(p[1]);
	OK(loop_run_once(l, 1000) == n && r.calls == n,
		"every duplicate entry of the fd called once");
	for (int i = 0; i < n; i++)
		loop_del_fd(l, ids[i]);
	OK(loop_add_fd(l, p[0], POLLIN, fd_cb, &r) >= 1,
		"after deleting them, add works again");
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

/* --------------------------------------------------------------- timers */

#define NFIRE 2048

static struct {
	int n;
	int64_t id[NFIRE];
	int64_t at[NFIRE];    /* loop_now_ms() when fired */
	int tag[NFIRE];       /* ctx as an int */
} fired;

static void fired_reset(void)
{
	fired.n = 0;
}

static void tcb(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	if (fired.n < NFIRE) {
		fired.id[fired.n] = id;
		fired.at[fired.n] = loop_now_ms();
		fired.tag[fired.n] = (int)(intptr_t)ctx;
	}
	fired.n++;
}

static void *tag(int i)
{
	return (void *)(intptr_t)i;
}

static void test_timer_order(void)
{
	struct loop *l = loop_new();
	int64_t now = loop_now_ms(), t0, id;
	int ok;

	/* All due already: one round fires them, by deadline, ties in the
	 * order they were added */
	loop_timer_at(l, now - 5, tcb, tag(4));
	loop_timer_at(l, now - 30, tcb, tag(1));
	loop_timer_at(l, now - 10, tcb, tag(3));
	loop_timer_at(l, now - 30, tcb, tag(2));
	OK(loop_next_timeout_ms(l) == 0, "overdue timer: timeout 0");
	fired_reset();
	OK(loop_run_once(l, 0) == 4 && fired.n == 4, "4 due timers fire");
	OK(fired.tag[0] == 1 && fired.tag[1] == 2 && fired.tag[2] == 3 &&
		fired.tag[3] == 4, "in deadline order, ties in add order");
	OK(loop_next_timeout_ms(l) == -1, "heap empty again: timeout -1");

	/* A future one: the timeout follows it, and the loop waits for it */
	now = loop_now_ms();
	id = loop_timer_at(l, now + 50, tcb, tag(5));
	ok = loop_next_timeout_ms(l);
	OK(ok > 0 && ok <= 50, "timeout from the heap top (%d ms)", ok);
	fired_reset();
	OK(loop_run_once(l, 0) == 0 && fired.n == 0, "not due: not fired");
	t0 = loop_now_ms();
	OK(loop_run_once(l, -1) == 1 && fired.n == 1 && fired.id[0] == id,
		"run_once(-1) sleeps until the timer");
	OK(fired.at[0] >= now + 50 && fired.at[0] - t0 < 2000,
		"fired at or after its deadline (%lld ms late)",
		(long long)(fired.at[0] - (now + 50)));
	OK(loop_timer_cancel(l, id) == -1 && errno == ENOENT,
		"cancel a fired timer: ENOENT");

	/* max_wait_ms bounds the wait below the timer's */
	now = loop_now_ms();
	id = loop_timer_at(l, now + 10000, tcb, tag(6));
	fired_reset();
	t0 = loop_now_ms();
	OK(loop_run_once(l, 20) == 0 && fired.n == 0 &&
		loop_now_ms() - t0 < 2000, "max_wait_ms shorter than a timer");
	OK(loop_timer_cancel(l, id) == 0, "cancel it");
	loop_free(l);
}

static void test_timer_cancel(void)
{
	struct loop *l = loop_new();
	int64_t now = loop_now_ms(), ids[3];

	for (int i = 0; i < 3; i++)
		ids[i] = loop_timer_at(l, now - 3 + i, tcb, tag(i));
	OK(ids[0] >= 1 && ids[1] >= 1 && ids[2] >= 1 && ids[0] != ids[1] &&
		ids[1] != ids[2], "timer ids >= 1, distinct");
	OK(loop_timer_cancel(l, ids[1]) == 0, "cancel the middle one");
	errno = 0;
	OK(loop_timer_cancel(l, ids[1]) == -1 && errno == ENOENT,
		"cancel twice: ENOENT");
	fired_reset();
	OK(loop_run_once(l, 0) == 2 && fired.n == 2 && fired.tag[0] == 0 &&
		fired.tag[1] == 2, "the others fire, the cancelled one not");
	OK(loop_timer_at(l, 0, NULL, NULL) == -1 && errno == EINVAL,
		"timer without callback: EINVAL");
	loop_free(l);
}

/* A timer that cancels another one due in the same round */
static int64_t victim_timer;

static void cancel_cb(struct loop *l, int64_t id, void *ctx)
{
	tcb(l, id, ctx);
	loop_timer_cancel(l, victim_timer);
}

static void test_timer_cancel_in_round(void)
{
	struct loop *l = loop_new();
	int64_t now = loop_now_ms();

	loop_timer_at(l, now - 2, cancel_cb, tag(1));
	victim_timer = loop_timer_at(l, now - 1, tcb, tag(2));
	fired_reset();
	OK(loop_run_once(l, 0) == 1 && fired.n == 1 && fired.tag[0] == 1,
		"a due timer cancelled by an earlier one of the round: "
		"not fired");
	OK(loop_next_timeout_ms(l) == -1, "and gone from the heap");
	loop_free(l);
}

/* Reschedules itself RESCHED times, RESCHED_MS apart, then stops */
#define RESCHED 5
#define RESCHED_MS 10

static struct {
	int n;
	int64_t deadline[RESCHED];
	int64_t at[RESCHED];
	int64_t id[RESCHED];
	int late;             /* fired before its deadline: never */
	int64_t self_cancel;  /* cancel of its own id from its callback */
} resched;

static void resched_cb(struct loop *l, int64_t id, void *ctx)
{
	int i = resched.n++;
	(void)ctx;

	resched.at[i] = loop_now_ms();
	resched.id[i] = id;
	if (resched.at[i] < resched.deadline[i])
		resched.late = 1;
	resched.self_cancel = loop_timer_cancel(l, id);
	if (resched.n == RESCHED) {
		loop_stop(l);
		return;
	}
	resched.deadline[i + 1] = resched.at[i] + RESCHED_MS;
	loop_timer_at(l, resched.deadline[i + 1], resched_cb, NULL);
}

static void test_timer_resched(void)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	int p[2], distinct = 1;
	int64_t t0;

	/* An fd too, so loop_run does not end for want of anything */
	if (mkpipe(p) < 0)
		exit(1);
	loop_add_fd(l, p[0], POLLIN, fd_cb, &r);
	resched.deadline[0] = loop_now_ms() + RESCHED_MS;
	loop_timer_at(l, resched.deadline[0], resched_cb, NULL);
	t0 = loop_now_ms();
	OK(loop_run(l) == 0, "loop_run returns 0 after loop_stop");
	OK(resched.n == RESCHED, "timer rescheduled itself %d times",
		resched.n);
	OK(!resched.late, "never before its deadline");
	OK(loop_now_ms() - t0 >= (RESCHED - 1) * RESCHED_MS,
		"took at least the sum of the intervals");
	for (int i = 1; i < resched.n; i++)
		if (resched.id[i] == resched.id[i - 1])
			distinct = 0;
	OK(distinct, "each reschedule has a new id");
	OK(resched.self_cancel == -1,
		"cancel of its own id inside its callback: ENOENT");
	OK(r.calls == 0, "the idle fd was never called");

	/* Stop request cleared on return; one made before run: at once */
	loop_stop(l);
	t0 = loop_now_ms();
	OK(loop_run(l) == 0 && loop_now_ms() - t0 < 100,
		"loop_stop before loop_run: returns at once");
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

/* Re-adds itself with a past deadline: once per round, not in a spin */
static int64_t spin_id;

static void spin_cb(struct loop *l, int64_t id, void *ctx)
{
	tcb(l, id, ctx);
	spin_id = loop_timer_at(l, 0, spin_cb, ctx);
}

/* Adds a timer due before an older due one */
static void early_cb(struct loop *l, int64_t id, void *ctx)
{
	tcb(l, id, ctx);
	loop_timer_at(l, loop_now_ms() - 100, tcb, tag(3));
}

/* An fd callback that adds a timer already due */
static void fd_timer_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	char c;
	(void)id;
	(void)revents;
	if (read(fd, &c, 1) != 1)
		return;
	loop_timer_at(l, 0, tcb, ctx);
}

static void test_timer_added_in_round(void)
{
	struct loop *l = loop_new();
	int64_t now = loop_now_ms(), id;
	int p[2];

	if (mkpipe(p) < 0)
		exit(1);
	id = loop_add_fd(l, p[0], POLLIN, fd_timer_cb, tag(5));
	put(p[1]);
	fired_reset();
	OK(loop_run_once(l, 1000) == 2 && fired.n == 1 && fired.tag[0] == 5,
		"a due timer added by an fd callback fires in the same round");
	loop_close_fd(l, id);
	close(p[1]);

	loop_timer_at(l, 0, spin_cb, tag(9));
	fired_reset();
	OK(loop_run_once(l, 0) == 1 && fired.n == 1,
		"timer re-adding itself overdue fires once per round");
	OK(loop_run_once(l, 0) == 1 && fired.n == 2, "and again next round");
	OK(loop_timer_cancel(l, spin_id) == 0, "then cancelled");

	loop_timer_at(l, now - 10, early_cb, tag(1));
	loop_timer_at(l, now - 5, tcb, tag(2));
	fired_reset();
	OK(loop_run_once(l, 0) == 1 && fired.n == 1 && fired.tag[0] == 1,
		"a timer added in the round, due before an older one, "
		"holds both to the next round");
	OK(loop_next_timeout_ms(l) == 0, "next round does not wait");
	OK(loop_run_once(l, 0) == 2 && fired.n == 3 && fired.tag[1] == 3 &&
		fired.tag[2] == 2, "then both fire, in deadline order");
	loop_free(l);
}

/* A small LCG: the same sequence on every libc */
static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

#define NRAND 1000

static void test_timer_random(void)
{
	struct loop *l = loop_new();
	static int64_t ids[NRAND], deadline[NRAND];
	static char cancelled[NRAND];
	int64_t now = loop_now_ms();
	int ncancel = 0, order = 1, none_cancelled = 1, all_ids = 1;

	/* Overdue, with many ties: one round fires all, in order */
	for (int i = 0; i < NRAND; i++) {
		deadline[i] = now - 1 - (int64_t)(rng() % 500);
		ids[i] = loop_timer_at(l, deadline[i], tcb, tag(i));
		cancelled[i] = 0;
	}
	for (int i = 0; i < NRAND; i++)
		if (rng() % 5 == 0) {
			if (loop_timer_cancel(l, ids[i]) == 0) {
				cancelled[i] = 1;
				ncancel++;
			}
		}
	fired_reset();
	OK(loop_run_once(l, 0) == NRAND - ncancel &&
		fired.n == NRAND - ncancel,
		"%d random overdue timers, %d cancelled: the rest fire",
		NRAND, ncancel);
	for (int k = 0; k < fired.n && k < NFIRE; k++) {
		int i = fired.tag[k];
		if (cancelled[i])
			none_cancelled = 0;
		if (fired.id[k] != ids[i])
			all_ids = 0;
		if (k > 0) {
			int j = fired.tag[k - 1];
			if (deadline[j] > deadline[i] ||
			    (deadline[j] == deadline[i] && j > i))
				order = 0;
		}
	}
	OK(order, "in deadline order, ties in add order");
	OK(none_cancelled, "no cancelled one fired");
	OK(all_ids, "each with its own id");

	/* In the future, within 100 ms: loop_run until none is left */
	now = loop_now_ms();
	for (int i = 0; i < NRAND; i++) {
		deadline[i] = now + 1 + (int64_t)(rng() % 100);
		ids[i] = loop_timer_at(l, deadline[i], tcb, tag(i));
	}
	fired_reset();
	OK(loop_run(l) == 0 && fired.n == NRAND,
		"loop_run fires %d future timers and returns when none is "
		"left", NRAND);
	order = 1;
	{
		int early = 0;
		for (int k = 0; k < fired.n && k < NFIRE; k++) {
			int i = fired.tag[k];
			if (fired.at[k] < deadline[i])
				early++;
			if (k > 0 && deadline[fired.tag[k - 1]] > deadline[i])
				order = 0;
		}
		OK(order, "in deadline order");
		OK(early == 0, "none before its deadline");
	}
	loop_free(l);
}

static void test_timer_limit(void)
{
	struct loop *l = loop_new();
	int n = 0;
	int64_t id;

	while (n < LOOP_MAX_TIMERS + 1) {
		if (loop_timer_at(l, n, tcb, NULL) < 0)
			break;
		n++;
	}
	OK(n == LOOP_MAX_TIMERS && errno == ENOSPC,
		"LOOP_MAX_TIMERS (%d) timers fit, one more: ENOSPC", n);
	fired_reset();
	OK(loop_run_once(l, 0) == n && fired.n == n, "all %d fire", n);
	id = loop_timer_at(l, 0, tcb, NULL);
	OK(id >= 1 && loop_timer_cancel(l, id) == 0,
		"after they fired, add works again");
	loop_free(l);
}

/* -------------------------------------------------------------- signals */

static struct {
	int n;
	uint32_t signo[8];
	uint32_t pid[8];
	void *ctx;
} sigs;

static void sig_cb(struct loop *l, const struct signalfd_siginfo *si,
	void *ctx)
{
	(void)l;
	if (sigs.n < 8) {
		sigs.signo[sigs.n] = si->ssi_signo;
		sigs.pid[sigs.n] = si->ssi_pid;
	}
	sigs.n++;
	sigs.ctx = ctx;
}

static int blocked(int signo)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, signo) == 1;
}

static void test_signals(void)
{
	struct loop *l = loop_new();
	int got1 = 0, got2 = 0;

	OK(!blocked(SIGUSR1), "SIGUSR1 not blocked to begin with");
	OK(loop_add_signal(l, SIGUSR1, sig_cb, tag(7)) == 0,
		"add_signal SIGUSR1");
	OK(blocked(SIGUSR1), "SIGUSR1 now blocked");
	errno = 0;
	OK(loop_add_signal(l, SIGKILL, sig_cb, NULL) == -1 && errno == EINVAL,
		"add_signal SIGKILL: EINVAL");
	errno = 0;
	OK(loop_add_signal(l, 0, sig_cb, NULL) == -1 && errno == EINVAL,
		"add_signal 0: EINVAL");

	raise(SIGUSR1);
	sigs.n = 0;
	OK(loop_run_once(l, 1000) == 1 && sigs.n == 1 &&
		sigs.signo[0] == SIGUSR1 && sigs.ctx == tag(7),
		"raise(SIGUSR1) arrives through the signalfd, with ctx");

	OK(loop_add_signal(l, SIGUSR2, sig_cb, tag(8)) == 0,
		"add_signal SIGUSR2");
	kill(getpid(), SIGUSR2);
	sigs.n = 0;
	OK(loop_run_once(l, 1000) == 1 && sigs.n == 1 &&
		sigs.signo[0] == SIGUSR2 && sigs.pid[0] == (uint32_t)getpid(),
		"kill(getpid(), SIGUSR2): signo and sender pid");

	raise(SIGUSR1);
	raise(SIGUSR2);
	sigs.n = 0;
	loop_run_once(l, 1000);
	for (int i = 0; i < sigs.n && i < 8; i++) {
		got1 |= sigs.signo[i] == SIGUSR1;
		got2 |= sigs.signo[i] == SIGUSR2;
	}
	OK(sigs.n == 2 && got1 && got2, "two signals pending: both in a round");

	raise(SIGUSR1);
	raise(SIGUSR1);
	sigs.n = 0;
	loop_run_once(l, 1000);
	OK(sigs.n == 1, "a standard signal raised twice coalesces");

	OK(loop_del_signal(l, SIGUSR1) == 0 && !blocked(SIGUSR1),
		"del_signal unblocks SIGUSR1");
	errno = 0;
	OK(loop_del_signal(l, SIGUSR1) == -1 && errno == ENOENT,
		"del_signal twice: ENOENT");
	OK(loop_next_timeout_ms(l) == -1, "signals add no timer");
	loop_free(l);
	OK(!blocked(SIGUSR2), "loop_free unblocks the signals it blocked");
}

static void noop_handler(int signo)
{
	(void)signo;
}

static void test_child_reset(void)
{
	struct loop *l = loop_new();
	struct sigaction ign, hup, old_pipe, old_hup;
	pid_t pid;
	int status = -1;

	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	memset(&hup, 0, sizeof hup);
	hup.sa_handler = noop_handler; /* a handler to reset */
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigaction(SIGHUP, &hup, &old_hup);
	loop_add_signal(l, SIGUSR2, sig_cb, NULL);
	loop_add_signal(l, SIGCHLD, sig_cb, NULL);

	pid = fork();
	if (pid == 0) {
		sigset_t cur;
		struct sigaction sa;
		int bad = 0;

		if (loop_reset_signals_for_child() < 0)
			_exit(2);
		sigprocmask(SIG_BLOCK, NULL, &cur);
		for (int s = 1; s < NSIG; s++)
			if (sigismember(&cur, s) == 1)
				bad |= 4;
		sigaction(SIGPIPE, NULL, &sa);
		if (sa.sa_handler != SIG_DFL)
			bad |= 8;
		sigaction(SIGHUP, NULL, &sa);
		if (sa.sa_handler != SIG_DFL)
			bad |= 16;
		_exit(bad);
	}
	OK(pid > 0, "fork");
	/* SIGCHLD is routed to the loop: wait for it, then reap */
	sigs.n = 0;
	for (int i = 0; i < 50 && sigs.n == 0; i++)
		loop_run_once(l, 100);
	OK(sigs.n >= 1 && sigs.signo[0] == SIGCHLD,
		"SIGCHLD arrives through the signalfd");
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"child after loop_reset_signals_for_child: empty mask, "
		"SIGPIPE and SIGHUP SIG_DFL (status %d)", status);
	loop_free(l);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}

/* ------------------------------------------------- idle, EINTR, misuse */

static void test_idle(void)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct rusage ru0, ru1;
	int p[2], rc;
	int64_t t0, dt;
	long wakeups;

	if (mkpipe(p) < 0)
		exit(1);
	loop_add_fd(l, p[0], POLLIN, fd_cb, &r);
	OK(loop_next_timeout_ms(l) == -1,
		"only an fd registered: computed timeout -1 (poll blocks)");
	fflush(stdout);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = loop_now_ms();
	rc = loop_run_once(l, 200);
	dt = loop_now_ms() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	wakeups = ru1.ru_nvcsw - ru0.ru_nvcsw;
	OK(rc == 0 && r.calls == 0, "nothing ready: nothing dispatched");
	OK(dt >= 200 && dt < 1000, "run_once(200) returned after %lld ms",
		(long long)dt);
	OK(wakeups <= 1, "one sleep, no tick: %ld voluntary context "
		"switch(es) in the wait", wakeups);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int signo)
{
	(void)signo;
	alarms++;
}

static void stop_cb(struct loop *l, int64_t id, void *ctx)
{
	tcb(l, id, ctx);
	loop_stop(l);
}

static void test_eintr(void)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct sigaction sa, old;
	struct itimerval it = { { 0, 0 }, { 0, 50000 } }; /* 50 ms, once */
	int p[2], rc;
	int64_t t0, dt;

	if (mkpipe(p) < 0)
		exit(1);
	loop_add_fd(l, p[0], POLLIN, fd_cb, &r);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: poll() gets EINTR */
	sigemptyset(&sa.sa_mask);
	alarm(0);
	sigaction(SIGALRM, &sa, &old);

	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = loop_now_ms();
	rc = loop_run_once(l, 5000);
	dt = loop_now_ms() - t0;
	OK(alarms == 1 && rc == 0 && dt < 4000,
		"EINTR: run_once returns 0, not -1 (after %lld ms)",
		(long long)dt);

	/* loop_run goes on through EINTR until a timer stops it */
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	loop_timer_at(l, loop_now_ms() + 150, stop_cb, NULL);
	fired_reset();
	OK(loop_run(l) == 0 && alarms == 1 && fired.n == 1,
		"loop_run continues through EINTR");

	sigaction(SIGALRM, &old, NULL);
	alarm(WATCHDOG);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static int nested_once, nested_run, nested_errno;

static void nested_cb(struct loop *l, int64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	nested_once = loop_run_once(l, 0);
	nested_errno = errno;
	nested_run = loop_run(l);
}

static void test_nested(void)
{
	struct loop *l = loop_new();

	loop_timer_at(l, 0, nested_cb, NULL);
	loop_run_once(l, 0);
	OK(nested_once == -1 && nested_errno == EBUSY && nested_run == -1,
		"run_once / run from a callback: EBUSY");
	loop_free(l);
}

int main(void)
{
	alarm(WATCHDOG);
	test_empty();
	test_pipe();
	test_del_in_dispatch();
	test_fd_reuse();
	test_deferred_close();
	test_fd_limit();
	test_timer_order();
	test_timer_cancel();
	test_timer_cancel_in_round();
	test_timer_resched();
	test_timer_added_in_round();
	test_timer_random();
	test_timer_limit();
	test_signals();
	test_child_reset();
	test_idle();
	test_eintr();
	test_nested();
	return tap_done();
}
