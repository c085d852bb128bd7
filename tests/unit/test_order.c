/* order (fs/order.c): a data request waits for every earlier unanswered
 * request that changes an overlapping range of the same file, and for
 * nothing else. Requests are fed through a socket pair, one per read(), as
 * /dev/fuse gives them; the ordering policy here is a test's own (opcode 1
 * reads, 2 writes), fs/ops_table.c has the daemon's. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../fs/fuse_abi.h"
#include "../../fs/order.h"
#include "suites.h"
#include "unit.h"

#define OP_READ 1
#define OP_WRITE 2

struct span {
	uint64_t off, len;
};

static int test_range(uint32_t opcode, const void *arg, size_t argn, uint64_t *start,
		      uint64_t *end, int *changes)
{
	struct span sp;

	if ((opcode != OP_READ && opcode != OP_WRITE) || argn < sizeof(sp))
		return 0;
	memcpy(&sp, arg, sizeof(sp));
	*start = sp.off;
	*end = sp.off + sp.len;
	*changes = opcode == OP_WRITE;
	return 1;
}

static struct order o;
static int sv[2];

static void order_setup(void)
{
	order_init(&o, test_range);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	order_cached(&o, 1); /* something is open in cached mode: order */
}

static void order_teardown(void)
{
	order_cached(&o, -1);
	close(sv[0]);
	close(sv[1]);
	order_destroy(&o);
}

/* The kernel sends a request. */
static void send_req(uint32_t opcode, uint64_t unique, uint64_t nodeid, uint64_t off,
		     uint64_t len)
{
	struct {
		struct shmfs_fuse_in_header h;
		struct span sp;
	} m = { .h = { .len = sizeof(m), .opcode = opcode, .unique = unique, .nodeid = nodeid },
		.sp = { off, len } };

	ck_assert_int_eq(write(sv[1], &m, sizeof(m)), sizeof(m));
}

/* A worker: reads one request as the daemon's loop does, waits as its
 * handler would, and says when it is through. */
struct worker {
	pthread_t t;
	int through; /* atomic */
};

/* What the daemon's transport notes of each request: here, its order. */
static void note(void *arg, const void *buf, size_t n, int ordered)
{
	order_note(arg, buf, n, ordered);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char buf[256];

	ck_assert_int_gt(order_read(&o, sv[0], buf, sizeof(buf), note, &o), 0);
	order_wait(&o);
	__atomic_store_n(&w->through, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void worker_start(struct worker *w)
{
	w->through = 0;
	ck_assert_int_eq(pthread_create(&w->t, NULL, worker_run, w), 0);
}

/* Whether w got through its wait within ms milliseconds. */
static int through_within(struct worker *w, int ms)
{
	struct timespec tick = { 0, 1000 * 1000 };

	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&w->through, __ATOMIC_SEQ_CST))
			return 1;
		nanosleep(&tick, NULL);
	}
	return __atomic_load_n(&w->through, __ATOMIC_SEQ_CST);
}

START_TEST(test_read_waits_for_an_earlier_write)
{
	struct worker a, b;

	send_req(OP_WRITE, 1, 7, 0, 4096);
	worker_start(&a);
	ck_assert(through_within(&a, 2000)); /* nothing earlier */
	send_req(OP_READ, 2, 7, 100, 100);
	worker_start(&b);
	ck_assert(!through_within(&b, 200)); /* the WRITE is not answered */
	order_answered(&o, 1);
	ck_assert(through_within(&b, 2000));
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
}
END_TEST

START_TEST(test_what_does_not_wait)
{
	struct worker a, b, c, d;

	send_req(OP_WRITE, 1, 7, 0, 4096);
	worker_start(&a);
	ck_assert(through_within(&a, 2000));
	/* Another range of the same file, the same range of another file. */
	send_req(OP_WRITE, 2, 7, 4096, 4096);
	worker_start(&b);
	ck_assert(through_within(&b, 2000));
	send_req(OP_READ, 3, 8, 0, 4096);
	worker_start(&c);
	ck_assert(through_within(&c, 2000));
	/* A request the policy does not order. */
	send_req(99, 4, 7, 0, 4096);
	worker_start(&d);
	ck_assert(through_within(&d, 2000));
	order_answered(&o, 1);
	order_answered(&o, 2);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	pthread_join(c.t, NULL);
	pthread_join(d.t, NULL);
}
END_TEST

/* Reads change nothing: a write after an unanswered read goes ahead. */
START_TEST(test_nothing_waits_for_a_read)
{
	struct worker a, b;

	send_req(OP_READ, 1, 7, 0, 4096);
	worker_start(&a);
	ck_assert(through_within(&a, 2000));
	send_req(OP_WRITE, 2, 7, 0, 4096);
	worker_start(&b);
	ck_assert(through_within(&b, 2000));
	order_answered(&o, 2);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
}
END_TEST

/* With nothing open in cached mode, requests are read bare and nothing
 * waits. */
START_TEST(test_no_order_without_a_reason)
{
	struct worker a, b;

	order_cached(&o, -1);
	send_req(OP_WRITE, 1, 7, 0, 4096);
	worker_start(&a);
	ck_assert(through_within(&a, 2000));
	send_req(OP_READ, 2, 7, 0, 4096);
	worker_start(&b);
	ck_assert(through_within(&b, 2000));
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	order_cached(&o, 1);
}
END_TEST

Suite *order_suite(void)
{
	Suite *s = suite_create("order");
	TCase *tc = tcase_create("order");

	tcase_add_checked_fixture(tc, order_setup, order_teardown);
	tcase_add_test(tc, test_read_waits_for_an_earlier_write);
	tcase_add_test(tc, test_what_does_not_wait);
	tcase_add_test(tc, test_nothing_waits_for_a_read);
	tcase_add_test(tc, test_no_order_without_a_reason);
	suite_add_tcase(s, tc);
	return s;
}
