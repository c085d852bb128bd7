/* order.c: a segment's data requests are served in the order the kernel sent
 * them, where that matters.
 *
 * The daemon serves requests on several threads, so a READ the kernel sent
 * after a WRITE of the same bytes can be answered before that WRITE reaches
 * the backing object. The kernel then caches the old bytes, in pages that a
 * mapping may dirty later and write back over the new ones (BUG-1 in
 * docs/RELIABILITY.md). So a request that reads or changes a file's data
 * (which ones, and their ranges: the range function given to order_init,
 * ops_table.c) waits until every earlier request that changes an overlapping
 * range of the same file has been answered. Nothing waits for READs: a READ
 * answered late only returns newer bytes.
 *
 * "Earlier" is the order of the kernel's queue, which is the order read()
 * takes requests from /dev/fuse: read() and noting the request happen under
 * read_lock. The handler runs in the thread that read its request (libfuse's
 * loops do both in one thread), which keeps it in a thread-local variable. A
 * request stops blocking others when its reply is written (order_answered,
 * from the session's writev), so no handler path can forget it.
 *
 * read_lock costs: each request hands it to another thread, whose wake-up
 * lands on the other CPU and whose reply then wakes the caller there (issue
 * 16, docs/PERFORMANCE.md). So it is taken only while there is a reason to
 * order (o->cached): an inode open in cached mode, or a mount without
 * passthrough (for good). In a passthrough mount with nothing open cached,
 * no request read can be one that needs order: READ and WRITE of an inode
 * come only after its OPEN was answered, and nothing is open cached. Threads
 * then read "bare", without read_lock. When the first reason comes (an OPEN
 * of a process-lifetime segment, before its reply), threads still blocked in
 * a bare read() are kicked out of it with a signal (unblocked only around
 * that read(), so no other system call of the daemon ever sees EINTR), and
 * the reply waits until no thread reads bare: every request a bare read
 * returned was taken from the queue before the reply went out, so none of
 * them is a data request of a cached inode. */
#include "order.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fuse_abi.h"
#include "log.h"

/* Seconds a request waits for earlier ones before it goes ahead anyway; a
 * wait that long means a request was lost, and serving beats hanging. */
#define ORDER_PATIENCE 10

struct order_entry {
	uint64_t unique, nodeid, start, end; /* end is exclusive */
	struct order_entry *next;
};

/* The request this thread read last, if it has to wait for others. */
static __thread struct order_entry order_mine;
static __thread int order_pending;

/* This thread's slot in o->slots: -1 before its first read, -2 when there
 * was none free (it then always takes read_lock). */
static __thread int order_slot = -1;

static pthread_key_t order_slot_key;
static sigset_t order_kick_set;

#define ORDER_KICK (SIGRTMIN + 1)

static void order_kick_handler(int sig)
{
	(void)sig; /* only to end a bare read() with EINTR */
}

/* A thread that ends frees its slot. */
static void order_slot_free(void *slot)
{
	__atomic_store_n(&((struct order_slot *)slot)->bare, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&((struct order_slot *)slot)->used, 0, __ATOMIC_SEQ_CST);
}

static int order_slot_take(struct order *o)
{
	for (int i = 0; i < ORDER_SLOTS; i++) {
		int free_ = 0;

		if (__atomic_compare_exchange_n(&o->slots[i].used, &free_, 1, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			o->slots[i].tid = gettid();
			pthread_setspecific(order_slot_key, &o->slots[i]);
			return i;
		}
	}
	return -2;
}

void order_init(struct order *o, order_range_fn range)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&o->read_lock, NULL);
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->done, &ca);
	pthread_condattr_destroy(&ca);
	o->range = range;
	o->active = NULL;
	o->cached = 0;
	memset(o->slots, 0, sizeof(o->slots));
	pthread_key_create(&order_slot_key, order_slot_free);
	/* Blocked in every thread (libfuse's workers inherit the mask from
	 * this one) but around a bare read(). */
	sigemptyset(&order_kick_set);
	sigaddset(&order_kick_set, ORDER_KICK);
	sigaction(ORDER_KICK, &(struct sigaction){ .sa_handler = order_kick_handler }, NULL);
	pthread_sigmask(SIG_BLOCK, &order_kick_set, NULL);
}

void order_destroy(struct order *o)
{
	while (o->active) {
		struct order_entry *e = o->active;

		o->active = e->next;
		free(e);
	}
	pthread_cond_destroy(&o->done);
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->read_lock);
}

/* Note the request just read (under read_lock on /dev/fuse). */
void order_note(struct order *o, const void *buf, size_t n, int ordered)
{
	const struct shmfs_fuse_in_header *in = buf;
	struct order_entry *e;
	int changes;

	order_pending = 0;
	if (!ordered || n < sizeof(*in) ||
	    !o->range(in->opcode, in + 1, n - sizeof(*in), &order_mine.start, &order_mine.end,
		      &changes))
		return;
	order_mine.unique = in->unique;
	order_mine.nodeid = in->nodeid;
	order_pending = 1;
	if (!changes)
		return;
	e = malloc(sizeof(*e));
	if (!e)
		return; /* served unordered, which is all it can be */
	*e = order_mine;
	pthread_mutex_lock(&o->lock);
	e->next = o->active;
	o->active = e;
	pthread_mutex_unlock(&o->lock);
}

static void order_unlock(void *mutex)
{
	pthread_mutex_unlock(mutex);
}

/* A read() without read_lock while there is no reason to order: 1 and *n,
 * or 0 when the caller must take read_lock. */
static int order_read_bare(struct order *o, int fd, void *buf, size_t len, ssize_t *n)
{
	struct order_slot *me;
	int err;

	if (order_slot == -1)
		order_slot = order_slot_take(o);
	if (order_slot < 0)
		return 0;
	me = &o->slots[order_slot];
	for (;;) {
		/* Dekker with order_cached: it raises o->cached, then looks
		 * at bare; this marks bare, then looks at o->cached. */
		__atomic_store_n(&me->bare, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&o->cached, __ATOMIC_SEQ_CST) > 0) {
			__atomic_store_n(&me->bare, 0, __ATOMIC_SEQ_CST);
			return 0;
		}
		pthread_sigmask(SIG_UNBLOCK, &order_kick_set, NULL);
		*n = read(fd, buf, len);
		err = errno;
		pthread_sigmask(SIG_BLOCK, &order_kick_set, NULL);
		__atomic_store_n(&me->bare, 0, __ATOMIC_SEQ_CST);
		if (*n >= 0 || err != EINTR) {
			order_pending = 0;
			errno = err;
			return 1;
		}
	}
}

void order_cached(struct order *o, int delta)
{
	struct timespec pause = { 0, 50 * 1000 };
	int waiting = 1;

	if (__atomic_add_fetch(&o->cached, delta, __ATOMIC_SEQ_CST) <= 0 || delta < 0)
		return;
	/* Until no other thread reads bare: kick the ones that do, again and
	 * again (a kick that comes before their read() is lost). */
	for (int round = 0; waiting; round++) {
		waiting = 0;
		for (int i = 0; i < ORDER_SLOTS; i++) {
			struct order_slot *s = &o->slots[i];

			if (i == order_slot || !__atomic_load_n(&s->bare, __ATOMIC_SEQ_CST))
				continue;
			waiting = 1;
			/* tgkill, not pthread_kill: the thread may have ended
			 * meanwhile, and its pthread_t with it. */
			if (round % 20 == 0)
				syscall(SYS_tgkill, getpid(), s->tid, ORDER_KICK);
		}
		if (waiting)
			nanosleep(&pause, NULL);
	}
}

int order_wanted(struct order *o)
{
	return __atomic_load_n(&o->cached, __ATOMIC_SEQ_CST) > 0;
}

ssize_t order_read(struct order *o, int fd, void *buf, size_t len, order_note_fn note, void *arg)
{
	ssize_t n;

	if (order_read_bare(o, fd, buf, len, &n)) {
		note(arg, buf, n > 0 ? (size_t)n : 0, 0);
		return n;
	}
	pthread_mutex_lock(&o->read_lock);
	/* libfuse cancels its idle workers at exit, and read() is where. */
	pthread_cleanup_push(order_unlock, &o->read_lock);
	n = read(fd, buf, len);
	note(arg, buf, n > 0 ? (size_t)n : 0, 1);
	pthread_cleanup_pop(1);
	return n;
}

/* Under lock: is an earlier change to an overlapping range unanswered? */
static int order_blocked(const struct order *o, const struct order_entry *r)
{
	const struct order_entry *e;

	for (e = o->active; e; e = e->next)
		if (e->unique < r->unique && e->nodeid == r->nodeid && e->start < r->end &&
		    r->start < e->end)
			return 1;
	return 0;
}

void order_wait(struct order *o)
{
	struct order_entry r = order_mine;
	struct timespec until;
	int rc = 0;

	if (!order_pending)
		return;
	order_pending = 0;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ORDER_PATIENCE;
	pthread_mutex_lock(&o->lock);
	while (rc != ETIMEDOUT && order_blocked(o, &r))
		rc = pthread_cond_timedwait(&o->done, &o->lock, &until);
	pthread_mutex_unlock(&o->lock);
	if (rc == ETIMEDOUT)
		log_warnx("request %llu waited %d s for an earlier one; serving it anyway",
			  (unsigned long long)r.unique, ORDER_PATIENCE);
}

void order_answered(struct order *o, uint64_t unique)
{
	struct order_entry **pp, *e;

	pthread_mutex_lock(&o->lock);
	for (pp = &o->active; (e = *pp); pp = &e->next) {
		if (e->unique == unique) {
			*pp = e->next;
			free(e);
			pthread_cond_broadcast(&o->done);
			break;
		}
	}
	pthread_mutex_unlock(&o->lock);
}
