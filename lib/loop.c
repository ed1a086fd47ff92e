/* loop.c: poll() + signalfd + timer heap. The API is documented in loop.h.
 *
 * Layout
 *  - fd entries live in fds[], a slot table whose indices do not move, so
 *    an id (generation << 32 | slot) finds its entry in O(1). The poll set
 *    pfd[] is kept dense and in registration order beside it, with pslot[]
 *    naming the slot of each pollfd and each entry its pfd index.
 *  - Deleting marks the entry dead; the poll set is compacted (O(n)) after
 *    the round, or at once outside dispatch. The slot is reused only after
 *    compaction, so during a round every pfd index still names the entry
 *    that was polled and a dead one is simply skipped.
 *  - Timers live in a slot table too (timers[]); heap[] is a binary
 *    min-heap of slot numbers ordered by (deadline, seq), and each timer
 *    keeps its heap index so a cancel is O(log n).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* NSIG; the Makefile sets it too */
#endif

#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CAP_START 8      /* first allocation of each table, in entries */
#define SIG_BATCH 16     /* signalfd_siginfo read per round, at most */
#define GEN_MAX 0x7fffffffu /* generations wrap to 1 past this (ids > 0) */

struct fdent {
	int fd;
	int events;          /* as asked; 0 = paused (pfd fd is -1) */
	loop_fd_cb *cb;
	void *ctx;
	uint32_t gen;        /* high half of the id; bumped when freed */
	int pidx;            /* index in pfd[]; -1 when the slot is free */
	int next_free;       /* free list link; -1 ends it */
	unsigned char dead;  /* deleted, waiting for compaction */
	unsigned char close; /* close(fd) at compaction */
};

struct timer {
	int64_t deadline;    /* ms, loop_now_ms() clock */
	uint64_t seq;        /* order of addition: ties, and "not this round" */
	loop_timer_cb *cb;
	void *ctx;
	uint32_t gen;        /* high half of the id; bumped when freed */
	int hidx;            /* index in heap[]; -1 when the slot is free */
	int next_free;       /* free list link; -1 ends it */
};

struct sigent {
	loop_signal_cb *cb;  /* NULL: not routed */
	void *ctx;
	unsigned char was_blocked; /* blocked before loop_add_signal() */
};

struct loop {
	/* fd entries */
	struct fdent *fds;
	int nfds_used;       /* slots in use, dead ones included */
	int nfds_slots;      /* slots ever handed out; the rest is unset */
	int fds_cap;         /* of fds[], pfd[] and pslot[] */
	int fds_free;        /* free list head; -1 = none */
	struct pollfd *pfd;
	int *pslot;          /* pslot[i] = slot of pfd[i] */
	int npfd;
	int ndead;           /* entries waiting for compaction */

	/* timers */
	struct timer *timers;
	int ntimers_used;
	int ntimers_slots;   /* slots ever handed out; the rest is unset */
	int timers_cap;      /* of timers[] and heap[] */
	int timers_free;
	int *heap;           /* slot numbers; heap[0] is the earliest */
	int nheap;
	uint64_t seq;        /* next timer's seq */

	/* signals */
	int sigfd;           /* -1 until the first loop_add_signal() */
	int64_t sigfd_id;
	sigset_t sigset;     /* signals routed through sigfd */
	struct sigent sig[NSIG];

	int dispatching;     /* inside loop_run_once()'s callbacks */
	int stop;            /* loop_stop() called */
};

/* -------------------------------------------------------------- helpers */

static int64_t make_id(uint32_t gen, int slot)
{
	return (int64_t)gen << 32 | (int64_t)(uint32_t)slot;
}

static uint32_t next_gen(uint32_t gen)
{
	return gen >= GEN_MAX ? 1 : gen + 1;
}

/* The next capacity of a table: doubling from CAP_START, up to max */
static int next_cap(int cap, int max)
{
	int ncap = cap ? cap * 2 : CAP_START;

	return ncap > max ? max : ncap;
}

/* ------------------------------------------------------------- lifetime */

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof *l);

	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	l->fds_free = -1;
	l->timers_free = -1;
	l->sigfd = -1;
	sigemptyset(&l->sigset);
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->npfd; i++) {
		struct fdent *e = &l->fds[l->pslot[i]];
		if (e->dead && e->close)
			close(e->fd);
	}
	if (l->sigfd >= 0) {
		sigset_t unblock;
		sigemptyset(&unblock);
		for (int s = 1; s < NSIG; s++)
			if (l->sig[s].cb && !l->sig[s].was_blocked)
				sigaddset(&unblock, s);
		sigprocmask(SIG_UNBLOCK, &unblock, NULL);
		close(l->sigfd);
	}
	free(l->fds);
	free(l->pfd);
	free(l->pslot);
	free(l->timers);
	free(l->heap);
	free(l);
}

/* ------------------------------------------------------------------ fds */

/* The live entry of an id, or NULL (ENOENT) */
static struct fdent *fd_lookup(const struct loop *l, int64_t id)
{
	int64_t slot = id & 0xffffffff;
	uint32_t gen = (uint32_t)((uint64_t)id >> 32);
	struct fdent *e;

	if (id <= 0 || slot >= l->nfds_slots)
		goto none;
	e = &l->fds[slot];
	if (e->pidx < 0 || e->gen != gen || e->dead)
		goto none;
	return e;
none:
	errno = ENOENT;
	return NULL;
}

/* Each array is reallocated in turn; if one fails, those done are bigger
 * than fds_cap says, which is harmless: the next call grows them again */
static int fds_grow(struct loop *l)
{
	int ncap = next_cap(l->fds_cap, LOOP_MAX_FDS);
	struct fdent *f;
	struct pollfd *p;
	int *ps;

	if (!(f = realloc(l->fds, (size_t)ncap * sizeof *f)))
		goto nomem;
	l->fds = f;
	if (!(p = realloc(l->pfd, (size_t)ncap * sizeof *p)))
		goto nomem;
	l->pfd = p;
	if (!(ps = realloc(l->pslot, (size_t)ncap * sizeof *ps)))
		goto nomem;
	l->pslot = ps;
	l->fds_cap = ncap;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

int64_t loop_add_fd(struct loop *l, int fd, int events, loop_fd_cb *cb,
	void *ctx)
{
	struct fdent *e;
	int slot;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (!cb) {
		errno = EINVAL;
		return -1;
	}
	if (l->fds_free < 0) {
		if (l->nfds_used >= LOOP_MAX_FDS) {
			errno = EMFILE;
			return -1;
		}
		if (l->nfds_slots == l->fds_cap && fds_grow(l) < 0)
			return -1;
		/* No free slot: every slot handed out is in use */
		slot = l->nfds_slots++;
		l->fds[slot].gen = 1;
	} else {
		slot = l->fds_free;
		l->fds_free = l->fds[slot].next_free;
	}
	l->nfds_used++;

	e = &l->fds[slot];
	e->fd = fd;
	e->events = events;
	e->cb = cb;
	e->ctx = ctx;
	e->dead = 0;
	e->close = 0;
	e->next_free = -1;
	e->pidx = l->npfd;
	/* Appended past the count polled in a running round: it cannot be
	 * dispatched before the next one, and revents starts clear */
	l->pfd[l->npfd].fd = events ? fd : -1;
	l->pfd[l->npfd].events = (short)events;
	l->pfd[l->npfd].revents = 0;
	l->pslot[l->npfd] = slot;
	l->npfd++;
	return make_id(e->gen, slot);
}

int loop_mod_fd(struct loop *l, int64_t id, int events)
{
	struct fdent *e = fd_lookup(l, id);

	if (!e)
		return -1;
	e->events = events;
	l->pfd[e->pidx].fd = events ? e->fd : -1;
	l->pfd[e->pidx].events = (short)events;
	return 0;
}

/* Drops dead entries from the poll set, keeping order, closes the fds
 * whose close was deferred and frees their slots. O(npfd). */
static void compact(struct loop *l)
{
	int j = 0;

	for (int i = 0; i < l->npfd; i++) {
		int slot = l->pslot[i];
		struct fdent *e = &l->fds[slot];

		if (!e->dead) {
			l->pfd[j] = l->pfd[i];
			l->pslot[j] = slot;
			e->pidx = j++;
			continue;
		}
		/* Linux frees the fd even when close() fails with EINTR:
		 * never retry */
		if (e->close)
			close(e->fd);
		e->pidx = -1;
		e->dead = 0;
		e->close = 0;
		e->gen = next_gen(e->gen);
		e->next_free = l->fds_free;
		l->fds_free = slot;
		l->nfds_used--;
	}
	l->npfd = j;
	l->ndead = 0;
}

static int fd_remove(struct loop *l, int64_t id, int do_close)
{
	struct fdent *e = fd_lookup(l, id);

	if (!e)
		return -1;
	e->dead = 1;
	e->close = (unsigned char)do_close;
	l->pfd[e->pidx].fd = -1;
	l->ndead++;
	if (!l->dispatching)
		compact(l);
	return 0;
}

int loop_del_fd(struct loop *l, int64_t id)
{
	return fd_remove(l, id, 0);
}

int loop_close_fd(struct loop *l, int64_t id)
{
	return fd_remove(l, id, 1);
}

/* -------------------------------------------------------------- signals */

/* The signalfd's own fd callback: reads one batch and routes each signal.
 * Level-triggered, so a longer queue (real-time signals) is read on the
 * next rounds instead of starving the other entries. */
static void sig_dispatch(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	struct signalfd_siginfo si[SIG_BATCH];
	ssize_t n;

	(void)id;
	(void)revents;
	(void)ctx;
	do
		n = read(fd, si, sizeof si);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return; /* EAGAIN: another reader took it */
	for (size_t i = 0; i < (size_t)n / sizeof *si; i++) {
		uint32_t s = si[i].ssi_signo;
		/* Looked up for each one: a callback may delete a signal */
		if (s > 0 && s < NSIG && l->sig[s].cb)
			l->sig[s].cb(l, &si[i], l->sig[s].ctx);
	}
}

int loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb,
	void *ctx)
{
	sigset_t one, old, set;
	int fd;

	if (!cb || signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	if (l->sig[signo].cb) {
		l->sig[signo].cb = cb;
		l->sig[signo].ctx = ctx;
		return 0;
	}
	sigemptyset(&one);
	if (sigaddset(&one, signo) < 0) /* EINVAL: reserved by libc */
		return -1;
	/* The fd entry first: once the signal is blocked, failing must
	 * undo as little as possible */
	if (l->sigfd < 0) {
		sigset_t empty;
		sigemptyset(&empty);
		fd = signalfd(-1, &empty, SFD_NONBLOCK | SFD_CLOEXEC);
		if (fd < 0)
			return -1;
		l->sigfd_id = loop_add_fd(l, fd, POLLIN, sig_dispatch, NULL);
		if (l->sigfd_id < 0) {
			int err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		l->sigfd = fd;
	}
	if (sigprocmask(SIG_BLOCK, &one, &old) < 0)
		return -1;
	set = l->sigset;
	sigaddset(&set, signo);
	if (signalfd(l->sigfd, &set, 0) < 0) {
		int err = errno;
		if (!sigismember(&old, signo))
			sigprocmask(SIG_UNBLOCK, &one, NULL);
		errno = err;
		return -1;
	}
	l->sigset = set;
	l->sig[signo].cb = cb;
	l->sig[signo].ctx = ctx;
	l->sig[signo].was_blocked = (unsigned char)sigismember(&old, signo);
	return 0;
}

int loop_del_signal(struct loop *l, int signo)
{
	sigset_t one;

	if (signo <= 0 || signo >= NSIG || !l->sig[signo].cb) {
		errno = ENOENT;
		return -1;
	}
	sigdelset(&l->sigset, signo);
	/* Cannot fail on a valid signalfd with a valid mask */
	signalfd(l->sigfd, &l->sigset, 0);
	if (!l->sig[signo].was_blocked) {
		sigemptyset(&one);
		sigaddset(&one, signo);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
	}
	l->sig[signo].cb = NULL;
	l->sig[signo].ctx = NULL;
	return 0;
}

int loop_reset_signals_for_child(void)
{
	struct sigaction sa;
	sigset_t empty;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	/* Dispositions first, so nothing pending runs a parent's handler
	 * once unblocked. EINVAL for SIGKILL, SIGSTOP and libc's reserved
	 * signals is expected and ignored. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigemptyset(&empty);
	return sigprocmask(SIG_SETMASK, &empty, NULL);
}

/* --------------------------------------------------------------- timers */

int64_t loop_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether timer slot a fires before slot b */
static int tbefore(const struct loop *l, int a, int b)
{
	const struct timer *ta = &l->timers[a], *tb = &l->timers[b];

	if (ta->deadline != tb->deadline)
		return ta->deadline < tb->deadline;
	return ta->seq < tb->seq;
}

static void hset(struct loop *l, int i, int slot)
{
	l->heap[i] = slot;
	l->timers[slot].hidx = i;
}

static void sift_up(struct loop *l, int i)
{
	int slot = l->heap[i];

	while (i > 0) {
		int parent = (i - 1) / 2;
		if (!tbefore(l, slot, l->heap[parent]))
			break;
		hset(l, i, l->heap[parent]);
		i = parent;
	}
	hset(l, i, slot);
}

static void sift_down(struct loop *l, int i)
{
	int slot = l->heap[i];

	for (;;) {
		int c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && tbefore(l, l->heap[c + 1], l->heap[c]))
			c++;
		if (!tbefore(l, l->heap[c], slot))
			break;
		hset(l, i, l->heap[c]);
		i = c;
	}
	hset(l, i, slot);
}

/* Takes the timer at heap index i out of the heap and frees its slot */
static void timer_remove(struct loop *l, int i)
{
	int slot = l->heap[i];
	struct timer *t = &l->timers[slot];

	l->nheap--;
	if (i < l->nheap) {
		/* The last one takes its place, then goes whichever way
		 * restores the order */
		hset(l, i, l->heap[l->nheap]);
		if (i > 0 && tbefore(l, l->heap[i], l->heap[(i - 1) / 2]))
			sift_up(l, i);
		else
			sift_down(l, i);
	}
	t->hidx = -1;
	t->gen = next_gen(t->gen);
	t->next_free = l->timers_free;
	l->timers_free = slot;
	l->ntimers_used--;
}

static int timers_grow(struct loop *l)
{
	int ncap = next_cap(l->timers_cap, LOOP_MAX_TIMERS);
	struct timer *t;
	int *h;

	if (!(t = realloc(l->timers, (size_t)ncap * sizeof *t)))
		goto nomem;
	l->timers = t;
	if (!(h = realloc(l->heap, (size_t)ncap * sizeof *h)))
		goto nomem;
	l->heap = h;
	l->timers_cap = ncap;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

int64_t loop_timer_at(struct loop *l, int64_t deadline_ms, loop_timer_cb *cb,
	void *ctx)
{
	struct timer *t;
	int slot;

	if (!cb) {
		errno = EINVAL;
		return -1;
	}
	if (l->timers_free < 0) {
		if (l->ntimers_used >= LOOP_MAX_TIMERS) {
			errno = ENOSPC;
			return -1;
		}
		if (l->ntimers_slots == l->timers_cap && timers_grow(l) < 0)
			return -1;
		slot = l->ntimers_slots++;
		l->timers[slot].gen = 1;
	} else {
		slot = l->timers_free;
		l->timers_free = l->timers[slot].next_free;
	}
	l->ntimers_used++;

	t = &l->timers[slot];
	t->deadline = deadline_ms;
	t->seq = l->seq++;
	t->cb = cb;
	t->ctx = ctx;
	t->next_free = -1;
	hset(l, l->nheap++, slot);
	sift_up(l, l->nheap - 1);
	return make_id(t->gen, slot);
}

int loop_timer_cancel(struct loop *l, int64_t id)
{
	int64_t slot = id & 0xffffffff;
	uint32_t gen = (uint32_t)((uint64_t)id >> 32);
	struct timer *t;

	if (id <= 0 || slot >= l->ntimers_slots)
		goto none;
	t = &l->timers[slot];
	if (t->hidx < 0 || t->gen != gen)
		goto none;
	timer_remove(l, t->hidx);
	return 0;
none:
	errno = ENOENT;
	return -1;
}

int loop_fd_of(const struct loop *l, int64_t id)
{
	const struct fdent *e = fd_lookup(l, id);

	return e ? e->fd : -1;
}

int64_t loop_timer_deadline(const struct loop *l, int64_t id)
{
	int64_t slot = id & 0xffffffff;
	uint32_t gen = (uint32_t)((uint64_t)id >> 32);

	if (id <= 0 || slot >= l->ntimers_slots || l->timers[slot].hidx < 0 ||
			l->timers[slot].gen != gen) {
		errno = ENOENT;
		return -1;
	}
	return l->timers[slot].deadline;
}

int loop_next_timeout_ms(const struct loop *l)
{
	int64_t deadline, now;

	if (l->nheap == 0)
		return -1;
	deadline = l->timers[l->heap[0]].deadline;
	now = loop_now_ms();
	if (deadline <= now)
		return 0;
	/* now >= 0, so this cannot overflow */
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* -------------------------------------------------------------- running */

/* Calls the callbacks of the fd entries poll() found ready among the first
 * npolled; returns how many were called */
static int dispatch_fds(struct loop *l, int npolled, int nready)
{
	int calls = 0;

	for (int i = 0; i < npolled && nready > 0; i++) {
		int re = l->pfd[i].revents;
		struct fdent *e;

		if (!re)
			continue;
		nready--;
		l->pfd[i].revents = 0;
		/* pfd[] does not move during the round (compaction waits
		 * for its end), so this is still the entry polled */
		e = &l->fds[l->pslot[i]];
		if (e->dead || !e->events)
			continue;
		re &= e->events | POLLERR | POLLHUP | POLLNVAL;
		if (!re)
			continue;
		e->cb(l, make_id(e->gen, l->pslot[i]), e->fd, re, e->ctx);
		calls++;
	}
	return calls;
}

/* Fires the timers due at now that existed before this phase began */
static int dispatch_timers(struct loop *l)
{
	uint64_t first_new = l->seq;
	int64_t now = loop_now_ms();
	int calls = 0;

	while (l->nheap > 0) {
		int slot = l->heap[0];
		struct timer *t = &l->timers[slot];
		loop_timer_cb *cb = t->cb;
		void *ctx = t->ctx;
		int64_t id = make_id(t->gen, slot);

		/* A timer added by a callback of this phase stops it even
		 * if older due ones sit below: they come in the next round,
		 * whose poll() has a zero timeout, and deadline order is
		 * kept */
		if (t->deadline > now || t->seq >= first_new)
			break;
		timer_remove(l, 0);
		cb(l, id, ctx);
		calls++;
	}
	return calls;
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
	int timeout, nready, npolled, calls;

	if (l->dispatching) {
		errno = EBUSY;
		return -1;
	}
	timeout = loop_next_timeout_ms(l);
	if (max_wait_ms >= 0 && (timeout < 0 || max_wait_ms < timeout))
		timeout = max_wait_ms;
	if (timeout < 0 && l->npfd == 0)
		return 0; /* nothing could ever wake us */

	npolled = l->npfd;
	nready = poll(l->pfd, (nfds_t)npolled, timeout);
	if (nready < 0) {
		if (errno != EINTR)
			return -1;
		nready = 0;
	}

	l->dispatching = 1;
	calls = dispatch_fds(l, npolled, nready);
	calls += dispatch_timers(l);
	l->dispatching = 0;
	if (l->ndead)
		compact(l);
	return calls;
}

int loop_run(struct loop *l)
{
	int rc = 0;

	if (l->dispatching) {
		errno = EBUSY;
		return -1;
	}
	while (!l->stop && (l->npfd > 0 || l->nheap > 0)) {
		if (loop_run_once(l, -1) < 0) {
			rc = -1;
			break;
		}
	}
	l->stop = 0;
	return rc;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}
