/* uring.c: FUSE requests over io_uring, served by the same handlers.
 *
 * The kernel side is fs/fuse/dev_uring.c (Linux 6.14+; read against 6.18).
 * After FUSE_INIT is answered with FUSE_OVER_IO_URING, the kernel holds back
 * new requests until every possible CPU's queue has an entry registered
 * (FUSE_IO_URING_CMD_REGISTER, an IORING_OP_URING_CMD on the /dev/fuse fd in
 * a 128-byte SQE); from then on it puts each request on the queue of the CPU
 * its caller runs on, into the buffers of an entry the daemon left waiting,
 * and completes that entry's command. The daemon answers and asks for the
 * next request in one command (COMMIT_AND_FETCH). A REGISTER the kernel
 * refuses turns the ring off for the connection and releases what it held
 * back, so a daemon that asked for the ring and cannot have it sends one
 * REGISTER it knows to be refused (uring_turn_down): requests then stay on
 * /dev/fuse.
 *
 * The daemon drives io_uring with the raw system calls and <linux/io_uring.h>
 * rather than liburing: Debian bookworm's liburing 2.3 has no helper for
 * IORING_OP_URING_CMD, so its SQEs would be filled by hand anyway, and what
 * is left (mapping two rings, one submit-and-wait call) is less than the
 * dependency.
 *
 * Each queue has one thread, pinned to its CPU, and URING_ENTRIES entries,
 * served one after the other. A request is copied into the thread's own
 * buffer in the layout read() of /dev/fuse gives (header, the opcode's fixed
 * argument, the rest) and handed to fuse_session_process_buf(), so the
 * handlers, and the notes the read hook takes of each request
 * (request_note), are the same for both transports. libfuse
 * writes the reply through the session's writev (passthrough.c), which hands
 * it to uring_reply(): the thread-local current entry takes it, and the
 * commit goes out with the next wait for requests. */
#include "uring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fuse_abi.h"
#include "log.h"
#include "request.h"
#include "shmfs.h"

#define URING_ENTRIES 2         /* ring entries per queue */
#define URING_SQE_SIZE 128      /* IORING_SETUP_SQE128 */
#define URING_WAKE (SIGRTMIN + 2)
#define URING_PARAM "/sys/module/fuse/parameters/enable_uring"
#define URING_HOW "modprobe fuse enable_uring=1, or echo Y > " URING_PARAM

struct uring_queue;

struct uring_ent {
	struct uring_queue *q;
	struct shmfs_fuse_uring_req_header *hdr;
	char *payload;
	struct iovec iov[2];         /* what REGISTER gives the kernel */
	uint64_t unique;             /* the request being served */
	int replied;
};

struct uring_queue {
	struct uring *u;
	int qid;                     /* also the CPU its thread runs on */
	int ring_fd, dev_fd;
	pthread_t thread;
	int started;
	pid_t tid;
	int result;                  /* registration: 0 or -errno; under u->lock */
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqes_len;
	char *sqes;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	unsigned tail;               /* our copy of *sq_tail */
	struct uring_ent ents[URING_ENTRIES];
	char *req;                   /* one request as read() would give it */
};

struct uring {
	struct shmfs *fs;
	size_t payload;              /* bytes of each entry's payload buffer */
	int active;                  /* every queue registered: requests come here */
	int stopping;                /* atomic */
	pthread_mutex_t lock;
	pthread_cond_t answered;     /* a queue set its result */
	int nqueues;
	struct uring_queue q[];
};

static __thread struct uring_ent *uring_current;

static int uring_enter(int fd, unsigned submit, unsigned wait)
{
	return (int)syscall(SYS_io_uring_enter, fd, submit, wait,
			    wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
}

static void *uring_at(void *base, unsigned offset)
{
	return (char *)base + offset;
}

/* An io_uring with 128-byte SQEs, mapped. 0 or -errno. */
static int uring_ring_open(struct uring_queue *q)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_COOP_TASKRUN;
	fd = (int)syscall(SYS_io_uring_setup, 2 * URING_ENTRIES, &p);
	if (fd < 0)
		return -errno;
	q->ring_fd = fd;
	q->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	q->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	q->sqes_len = (size_t)p.sq_entries * URING_SQE_SIZE;
	q->sq_map = mmap(NULL, q->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			 IORING_OFF_SQ_RING);
	q->cq_map = mmap(NULL, q->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			 IORING_OFF_CQ_RING);
	q->sqes = mmap(NULL, q->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		       IORING_OFF_SQES);
	if (q->sq_map == MAP_FAILED || q->cq_map == MAP_FAILED || q->sqes == MAP_FAILED)
		return -errno;
	q->sq_head = uring_at(q->sq_map, p.sq_off.head);
	q->sq_tail = uring_at(q->sq_map, p.sq_off.tail);
	q->sq_mask = uring_at(q->sq_map, p.sq_off.ring_mask);
	q->sq_array = uring_at(q->sq_map, p.sq_off.array);
	q->cq_head = uring_at(q->cq_map, p.cq_off.head);
	q->cq_tail = uring_at(q->cq_map, p.cq_off.tail);
	q->cq_mask = uring_at(q->cq_map, p.cq_off.ring_mask);
	q->cqes = uring_at(q->cq_map, p.cq_off.cqes);
	q->tail = *q->sq_tail;
	return 0;
}

static void uring_ring_close(struct uring_queue *q)
{
	if (q->sq_map && q->sq_map != MAP_FAILED)
		munmap(q->sq_map, q->sq_len);
	if (q->cq_map && q->cq_map != MAP_FAILED)
		munmap(q->cq_map, q->cq_len);
	if (q->sqes && q->sqes != MAP_FAILED)
		munmap(q->sqes, q->sqes_len);
	if (q->ring_fd >= 0)
		close(q->ring_fd);
	if (q->dev_fd >= 0)
		close(q->dev_fd);
	for (int i = 0; i < URING_ENTRIES; i++) {
		free(q->ents[i].hdr);
		free(q->ents[i].payload);
	}
	free(q->req);
	q->sq_map = q->cq_map = NULL;
	q->sqes = NULL;
	q->ring_fd = q->dev_fd = -1;
}

/* Queue a command of entry e (NULL: a REGISTER without buffers, which the
 * kernel refuses). Goes out with the next uring_enter. */
static void uring_cmd(struct uring_queue *q, struct uring_ent *e, uint32_t op)
{
	unsigned idx = q->tail & *q->sq_mask;
	struct io_uring_sqe *sqe = (void *)(q->sqes + (size_t)idx * URING_SQE_SIZE);
	struct shmfs_fuse_uring_cmd_req *cmd = (void *)sqe->cmd;

	memset(sqe, 0, URING_SQE_SIZE);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->dev_fd;
	sqe->cmd_op = op;
	sqe->user_data = (uintptr_t)e;
	cmd->qid = (uint16_t)q->qid;
	if (op == SHMFS_FUSE_IO_URING_CMD_REGISTER && e) {
		sqe->addr = (uintptr_t)e->iov;
		sqe->len = 2;
	} else if (e) {
		cmd->commit_id = e->unique;
	}
	q->sq_array[idx] = idx;
	__atomic_store_n(q->sq_tail, ++q->tail, __ATOMIC_RELEASE);
}

static unsigned uring_unsubmitted(const struct uring_queue *q)
{
	return q->tail - __atomic_load_n(q->sq_head, __ATOMIC_ACQUIRE);
}

/* How many CPUs the kernel counts as possible: it makes that many queues,
 * one per CPU number. */
static int uring_possible_cpus(void)
{
	char line[256];
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	int n = 0;

	if (f && fgets(line, sizeof(line), f)) {
		for (char *p = line; *p && *p != '\n';) {
			char *end;
			long a = strtol(p, &end, 10), b = a;

			if (*end == '-')
				b = strtol(end + 1, &end, 10);
			n += (int)(b - a + 1);
			p = *end == ',' ? end + 1 : end;
			if (end == p && *p != ',')
				break;
		}
	}
	if (f)
		fclose(f);
	return n > 0 ? n : 1;
}

/* The module parameter: 1 (Y), 0 (N), -1 (absent: no FUSE over io_uring). */
static int uring_param(void)
{
	char c = 0;
	FILE *f = fopen(URING_PARAM, "re");

	if (!f)
		return -1;
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == 'Y' || c == 'y' || c == '1';
}

static void uring_free(struct shmfs *fs)
{
	struct uring *u = fs->uring;

	if (!u)
		return;
	for (int i = 0; i < u->nqueues; i++)
		uring_ring_close(&u->q[i]);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->answered);
	free(u);
	fs->uring = NULL;
}

static int uring_refuse(struct shmfs *fs)
{
	uring_free(fs);
	if (fs->cfg.io_uring != URING_ON)
		return 0;
	log_errorx("io_uring=on, but %s", fs->uring_why);
	return -1;
}

int uring_prepare(struct shmfs *fs)
{
	struct uring *u;
	int n, param = fs->cfg.io_uring == URING_OFF ? 0 : uring_param(), rc = 0;

	fs->uring = NULL;
	if (fs->cfg.io_uring == URING_OFF)
		snprintf(fs->uring_why, sizeof(fs->uring_why), "io_uring=off");
	else if (param < 0)
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "the kernel has no FUSE over io_uring (Linux 6.14+, CONFIG_FUSE_IO_URING)");
	else if (param == 0)
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "the fuse module's enable_uring is N (" URING_HOW ")");
	if (param <= 0)
		return uring_refuse(fs);

	n = uring_possible_cpus();
	u = calloc(1, sizeof(*u) + (size_t)n * sizeof(u->q[0]));
	if (!u) {
		snprintf(fs->uring_why, sizeof(fs->uring_why), "out of memory");
		return uring_refuse(fs);
	}
	u->fs = fs;
	u->nqueues = n;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->answered, NULL);
	fs->uring = u;
	for (int i = 0; i < n; i++) {
		u->q[i].u = u;
		u->q[i].qid = i;
		u->q[i].dev_fd = -1;
		u->q[i].ring_fd = -1;
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = uring_ring_open(&u->q[i]);
	if (rc) {
		snprintf(fs->uring_why, sizeof(fs->uring_why), "io_uring_setup: %s%s", strerror(-rc),
			 rc == -EPERM ? " (sysctl kernel.io_uring_disabled?)" : "");
		return uring_refuse(fs);
	}
	return 0;
}

int uring_want(const struct shmfs *fs)
{
	return fs->uring && fs->kernel_offers_uring &&
	       (fs->cfg.io_uring == URING_ON || fs->passthrough_negotiated);
}

/* The ring was asked for in FUSE_INIT but will not be served: a REGISTER
 * the kernel refuses (no buffers) turns it off, and requests it held back
 * go to /dev/fuse. */
static void uring_turn_down(struct uring_queue *q, int dev_fd)
{
	struct io_uring_cqe *cqe;
	int own = q->dev_fd;

	q->dev_fd = dev_fd;
	uring_cmd(q, NULL, SHMFS_FUSE_IO_URING_CMD_REGISTER);
	q->dev_fd = own;
	if (uring_enter(q->ring_fd, 1, 1) < 0) {
		log_warn("turning the FUSE io_uring down");
		return;
	}
	cqe = &q->cqes[*q->cq_head & *q->cq_mask];
	log_debug("FUSE io_uring turned down (the kernel said %s, as it should)",
		  strerror(-cqe->res));
	__atomic_store_n(q->cq_head, *q->cq_head + 1, __ATOMIC_RELEASE);
}

/* Buffers of every entry: a header and a payload of the mount's largest
 * request (fs/fuse/dev_uring.c refuses smaller ones). */
static int uring_alloc(struct uring *u)
{
	for (int i = 0; i < u->nqueues; i++) {
		struct uring_queue *q = &u->q[i];

		q->req = malloc(sizeof(struct shmfs_fuse_in_header) +
				SHMFS_FUSE_URING_OP_IN_OUT_SZ + u->payload);
		if (!q->req)
			return -1;
		for (int j = 0; j < URING_ENTRIES; j++) {
			struct uring_ent *e = &q->ents[j];

			e->q = q;
			e->hdr = calloc(1, sizeof(*e->hdr));
			if (!e->hdr || posix_memalign((void **)&e->payload, 4096, u->payload))
				return -1;
			e->iov[0] = (struct iovec){ e->hdr, sizeof(*e->hdr) };
			e->iov[1] = (struct iovec){ e->payload, u->payload };
		}
	}
	return 0;
}

/* Each queue's own fd of the device: the session's goes at unmount, while
 * a queue may still answer a request. 0 or -errno. */
static int uring_dup_dev(struct shmfs *fs)
{
	for (int i = 0; i < fs->uring->nqueues; i++) {
		fs->uring->q[i].dev_fd = fcntl(fuse_session_fd(fs->se), F_DUPFD_CLOEXEC, 0);
		if (fs->uring->q[i].dev_fd < 0)
			return -errno;
	}
	return 0;
}

int uring_decide(struct shmfs *fs)
{
	struct uring *u = fs->uring;
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = fs->init_max_pages > 32 ? fs->init_max_pages : 32;
	int rc;

	if (!u)
		return fs->cfg.io_uring == URING_ON ? uring_refuse(fs) : 0;
	rc = fs->uring_negotiated ? uring_dup_dev(fs) : 0;
	if (rc) {
		uring_turn_down(&u->q[0], fuse_session_fd(fs->se));
		snprintf(fs->uring_why, sizeof(fs->uring_why), "dup of /dev/fuse: %s", strerror(-rc));
		return uring_refuse(fs);
	}
	if (!fs->kernel_offers_uring) {
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "the kernel's FUSE_INIT does not offer FUSE_OVER_IO_URING");
		return uring_refuse(fs);
	}
	if (!fs->uring_negotiated) {
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "cached mode keeps /dev/fuse, whose order it needs (io_uring=on to override)");
		return uring_refuse(fs);
	}
	if (!fs->passthrough && fs->cfg.io_uring != URING_ON) {
		uring_turn_down(&u->q[0], fuse_session_fd(fs->se));
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "cached mode keeps /dev/fuse, whose order it needs (io_uring=on to override)");
		return uring_refuse(fs);
	}
	u->payload = fs->init_max_write > 8192 ? fs->init_max_write : 8192;
	if (u->payload < pages * (size_t)page)
		u->payload = pages * (size_t)page;
	if (uring_alloc(u)) {
		uring_turn_down(&u->q[0], fuse_session_fd(fs->se));
		snprintf(fs->uring_why, sizeof(fs->uring_why), "out of memory for ring buffers");
		return uring_refuse(fs);
	}
	return 0;
}

/* Copy the bytes of iov from offset on (len of them) to dst. */
static void uring_gather(char *dst, const struct iovec *iov, int count, size_t offset, size_t len)
{
	for (int i = 0; i < count && len; i++) {
		size_t n = iov[i].iov_len;

		if (offset >= n) {
			offset -= n;
			continue;
		}
		n -= offset;
		if (n > len)
			n = len;
		memmove(dst, (const char *)iov[i].iov_base + offset, n);
		dst += n;
		len -= n;
		offset = 0;
	}
}

static void uring_reply_error(struct uring_ent *e, int error)
{
	struct shmfs_fuse_out_header out = { sizeof(out), -error, e->unique };

	memcpy(e->hdr->in_out, &out, sizeof(out));
	e->hdr->ring_ent_in_out.payload_sz = 0;
	e->replied = 1;
}

int uring_reply(const struct iovec *iov, int count, uint64_t unique)
{
	struct uring_ent *e = uring_current;
	struct shmfs_fuse_out_header out;
	size_t len = 0;

	if (!e || e->replied || unique != e->unique)
		return 0;
	for (int i = 0; i < count; i++)
		len += iov[i].iov_len;
	if (len - sizeof(out) > e->q->u->payload) {
		log_warnx("a reply of %zu bytes does not fit a ring entry", len);
		uring_reply_error(e, EIO);
		return 1;
	}
	uring_gather((char *)&out, iov, count, 0, sizeof(out));
	memcpy(e->hdr->in_out, &out, sizeof(out));
	uring_gather(e->payload, iov, count, sizeof(out), len - sizeof(out));
	e->hdr->ring_ent_in_out.payload_sz = (uint32_t)(len - sizeof(out));
	e->replied = 1;
	return 1;
}

/* Serve the request the kernel put in e, and queue its commit. */
static void uring_serve(struct uring_queue *q, struct uring_ent *e)
{
	struct shmfs *fs = q->u->fs;
	struct shmfs_fuse_in_header in;
	uint32_t payload = e->hdr->ring_ent_in_out.payload_sz;
	struct fuse_buf buf = { .mem = q->req };
	size_t arg0;

	memcpy(&in, e->hdr->in_out, sizeof(in));
	e->unique = e->hdr->ring_ent_in_out.commit_id;
	e->replied = 0;
	arg0 = in.len - sizeof(in) - payload;
	if (in.len < sizeof(in) + payload || arg0 > SHMFS_FUSE_URING_OP_IN_OUT_SZ ||
	    payload > q->u->payload) {
		log_warnx("a ring request of %u bytes does not add up (payload %u)", in.len, payload);
		uring_reply_error(e, EIO);
	} else {
		memcpy(q->req, &in, sizeof(in));
		memcpy(q->req + sizeof(in), e->hdr->op_in, arg0);
		memcpy(q->req + sizeof(in) + arg0, e->payload, payload);
		buf.size = in.len;
		request_note(fs, q->req, buf.size, order_wanted(&fs->order));
		__atomic_add_fetch(&fs->ring_requests, 1, __ATOMIC_RELAXED);
		uring_current = e;
		fuse_session_process_buf(fs->se, &buf);
		uring_current = NULL;
	}
	if (!e->replied) /* a handler that answers nothing: none should come here */
		uring_reply_error(e, EIO);
	uring_cmd(q, e, SHMFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
}

static void uring_set_result(struct uring_queue *q, int result)
{
	pthread_mutex_lock(&q->u->lock);
	q->result = result;
	pthread_cond_broadcast(&q->u->answered);
	pthread_mutex_unlock(&q->u->lock);
}

/* Take what completed: requests are served, failures counted in *gone
 * (each entry fails once: the connection ended, or it was refused). */
static int uring_reap(struct uring_queue *q, int *gone)
{
	unsigned head = *q->cq_head, tail = __atomic_load_n(q->cq_tail, __ATOMIC_ACQUIRE);
	int first_error = 0;

	for (; head != tail; head++) {
		const struct io_uring_cqe *cqe = &q->cqes[head & *q->cq_mask];
		struct uring_ent *e = (void *)(uintptr_t)cqe->user_data;
		int res = cqe->res;

		__atomic_store_n(q->cq_head, head + 1, __ATOMIC_RELEASE);
		if (res < 0) {
			(*gone)++;
			if (!first_error)
				first_error = res;
			continue;
		}
		uring_serve(q, e);
	}
	return first_error;
}

static void uring_wake_handler(int sig)
{
	(void)sig; /* only to end a wait in io_uring_enter with EINTR */
}

static void *uring_thread(void *arg)
{
	struct uring_queue *q = arg;
	struct uring *u = q->u;
	sigset_t wake;
	cpu_set_t cpu;
	int gone = 0, rc;

	__atomic_store_n(&q->tid, gettid(), __ATOMIC_SEQ_CST);
	sigemptyset(&wake);
	sigaddset(&wake, URING_WAKE);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	/* The kernel serves a caller on CPU n from queue n: its thread
	 * belongs there. Not fatal where a cpuset forbids it. */
	CPU_ZERO(&cpu);
	CPU_SET(q->qid, &cpu);
	if (sched_setaffinity(0, sizeof(cpu), &cpu))
		log_debug("queue %d: not pinned to its CPU: %s", q->qid, strerror(errno));

	for (int i = 0; i < URING_ENTRIES; i++)
		uring_cmd(q, &q->ents[i], SHMFS_FUSE_IO_URING_CMD_REGISTER);
	/* A refused REGISTER completes at once; one that is taken completes
	 * with the first request. */
	rc = uring_enter(q->ring_fd, uring_unsubmitted(q), 0) < 0 ? -errno : 0;
	if (!rc)
		rc = uring_reap(q, &gone);
	uring_set_result(q, rc);
	while (!rc && gone < URING_ENTRIES) {
		if (uring_enter(q->ring_fd, uring_unsubmitted(q), 1) < 0) {
			if (errno != EINTR) {
				log_warn("queue %d: io_uring_enter", q->qid);
				break;
			}
		} else {
			rc = uring_reap(q, &gone);
			if (rc && rc != -ENOTCONN && rc != -ECANCELED)
				log_warnx("queue %d: %s", q->qid, strerror(-rc));
			rc = 0;
		}
		if (__atomic_load_n(&u->stopping, __ATOMIC_SEQ_CST)) {
			uring_enter(q->ring_fd, uring_unsubmitted(q), 0);
			break;
		}
	}
	return NULL;
}

/* Wait until every started queue set its result; the first error, or 0. */
static int uring_wait_results(struct uring *u, int started)
{
	struct timespec until;
	int rc = 0, pending = 1, timed_out = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&u->lock);
	while (pending && !timed_out) {
		pending = 0;
		for (int i = 0; i < started; i++)
			pending |= u->q[i].result == 1;
		if (pending)
			timed_out = pthread_cond_timedwait(&u->answered, &u->lock, &until) == ETIMEDOUT;
	}
	for (int i = 0; i < started && !rc; i++)
		rc = u->q[i].result == 1 ? -ETIMEDOUT : u->q[i].result;
	pthread_mutex_unlock(&u->lock);
	return rc;
}

int uring_start(struct shmfs *fs)
{
	struct uring *u = fs->uring;
	sigset_t all, old;
	int started = 0, rc = 0;

	if (!u)
		return 0;
	sigaction(URING_WAKE, &(struct sigaction){ .sa_handler = uring_wake_handler }, NULL);
	/* The threads take no signal but URING_WAKE: SIGTERM and the like
	 * belong to libfuse's loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; started < u->nqueues; started++) {
		u->q[started].result = 1; /* no answer yet */
		rc = pthread_create(&u->q[started].thread, NULL, uring_thread, &u->q[started]);
		if (rc)
			break;
		u->q[started].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		rc = -rc;
	else
		rc = uring_wait_results(u, started);
	if (rc == 0) {
		u->active = 1;
		return 0;
	}
	if (rc == -ENOTCONN || rc == -ECONNABORTED) {
		/* Unmounted (or aborted) before the queues were registered:
		 * the loop finds /dev/fuse gone too and ends as at any unmount. */
		log_debug("the mount ended before its ring was registered");
		return 0;
	}
	snprintf(fs->uring_why, sizeof(fs->uring_why), "registering the ring: %s", strerror(-rc));
	log_warnx("FUSE over io_uring: %s; requests stay on /dev/fuse", fs->uring_why);
	if (started < u->nqueues) { /* no REGISTER refused yet: refuse one */
		struct uring_queue spare = { .u = u, .ring_fd = -1, .dev_fd = -1 };

		if (uring_ring_open(&spare) == 0)
			uring_turn_down(&spare, fuse_session_fd(fs->se));
		uring_ring_close(&spare);
	}
	return -1;
}

void uring_stop(struct shmfs *fs)
{
	struct uring *u = fs->uring;
	int left = 0;

	if (!u)
		return;
	__atomic_store_n(&u->stopping, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < u->nqueues; i++) {
		struct uring_queue *q = &u->q[i];

		/* Ended by the unmount (its entries fail with ENOTCONN), or
		 * woken here when the connection outlives the daemon's loop. */
		for (int round = 0; q->started && pthread_tryjoin_np(q->thread, NULL); round++) {
			pid_t tid = __atomic_load_n(&q->tid, __ATOMIC_SEQ_CST);

			if (round % 20 == 0 && tid)
				syscall(SYS_tgkill, getpid(), tid, URING_WAKE);
			if (round == 200) {
				log_warnx("queue %d does not stop; leaving it", q->qid);
				pthread_detach(q->thread);
				left = 1;
				break;
			}
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		}
		q->started = 0;
	}
	u->active = 0;
	if (!left) /* else a thread may still use its queue: the exit frees all */
		uring_free(fs);
}

int uring_in_use(const struct shmfs *fs)
{
	return fs->uring && fs->uring->active;
}

const char *uring_transport(const struct shmfs *fs)
{
	return uring_in_use(fs) ? "io_uring" : "/dev/fuse";
}
