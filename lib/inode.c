#include "inode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define ITABLE_FIRST_BUCKETS 1024

static size_t itable_hash(dev_t dev, ino_t ino, size_t nbuckets)
{
	uint64_t h = ((uint64_t)ino ^ ((uint64_t)dev << 32 | (uint64_t)dev >> 32)) *
		     0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 17) & (nbuckets - 1);
}

int itable_init(struct inode_table *t)
{
	t->buckets = calloc(ITABLE_FIRST_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = ITABLE_FIRST_BUCKETS;
	t->count = 0;
	t->stale = NULL;
	t->fds = 0;
	t->fd_budget = 0;
	t->gone = NULL;
	t->gone_arg = NULL;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

static void inode_free(struct inode *in)
{
	if (in->fd >= 0)
		close(in->fd);
	free(in->handle);
	pthread_mutex_destroy(&in->lock);
	writelog_destroy(&in->wlog);
	free(in);
}

void itable_destroy(struct inode_table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct inode *in = t->buckets[i], *next;

		for (; in; in = next) {
			next = in->next;
			inode_free(in);
		}
	}
	while (t->stale) {
		struct inode *next = t->stale->next;

		inode_free(t->stale);
		t->stale = next;
	}
	free(t->buckets);
	t->buckets = NULL;
	pthread_mutex_destroy(&t->lock);
}

/* Double the buckets when chains grow past two on average; on ENOMEM keep
 * the longer chains. Called with the table lock held. */
static void itable_grow(struct inode_table *t)
{
	size_t n = t->nbuckets * 2;
	struct inode **b;

	if (t->count <= t->nbuckets * 2)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct inode *in = t->buckets[i], *next;

		for (; in; in = next) {
			size_t h = itable_hash(in->dev, in->ino, n);

			next = in->next;
			in->next = b[h];
			b[h] = in;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

/* fstat of in's object; an object whose handle no longer opens is gone. */
static int inode_nlink(struct inode *in, struct stat *now)
{
	int fd = inode_fd(in), rc;

	if (fd == -ESTALE) {
		now->st_nlink = 0;
		return 0;
	}
	if (fd < 0)
		return fd;
	rc = fstat(fd, now) ? -errno : 0;
	inode_fd_done(in, fd);
	return rc;
}

/* The inode of sb, with a lookup more; table lock held. */
static struct inode *itable_ref(struct inode_table *t, const struct stat *sb)
{
	struct inode **pp = &t->buckets[itable_hash(sb->st_dev, sb->st_ino, t->nbuckets)];
	struct inode *in;
	struct stat now;

	for (; (in = *pp); pp = &in->next) {
		if (in->dev != sb->st_dev || in->ino != sb->st_ino)
			continue;
		if (inode_nlink(in, &now) == 0 && now.st_nlink == 0) {
			/* A deleted object's number, reused: move it aside. */
			*pp = in->next;
			in->next = t->stale;
			t->stale = in;
			in->stale = 1;
			t->count--;
			return NULL;
		}
		in->nlookup++;
		return in;
	}
	return NULL;
}

struct inode *itable_find(struct inode_table *t, const struct stat *sb)
{
	struct inode *in;

	pthread_mutex_lock(&t->lock);
	in = itable_ref(t, sb);
	pthread_mutex_unlock(&t->lock);
	return in;
}

/* Keep a handle of in's object (from in->fd) so that in->fd can go. */
static int inode_keep_handle(struct inode *in)
{
	struct file_handle *h;
	int mount_id;

	if (in->store->mntfd < 0)
		return -EBADF;
	h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
	if (!h)
		return -ENOMEM;
	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(in->fd, "", h, &mount_id, AT_EMPTY_PATH)) {
		free(h);
		return -errno;
	}
	in->handle = h;
	return 0;
}

struct inode *itable_acquire(struct inode_table *t, int fd, const struct stat *sb,
			     struct store *store, int top)
{
	struct inode *in;
	size_t h;

	pthread_mutex_lock(&t->lock);
	in = itable_ref(t, sb);
	if (in) {
		pthread_mutex_unlock(&t->lock);
		close(fd);
		return in;
	}
	h = itable_hash(sb->st_dev, sb->st_ino, t->nbuckets);
	in = calloc(1, sizeof(*in));
	if (!in) {
		pthread_mutex_unlock(&t->lock);
		close(fd);
		return NULL;
	}
	in->dev = sb->st_dev;
	in->ino = sb->st_ino;
	in->type = sb->st_mode & S_IFMT;
	in->fd = fd;
	in->fd_rw = store_fd_is_rw(fd);
	in->store = store;
	if (t->fd_budget && t->fds >= t->fd_budget && inode_keep_handle(in) == 0) {
		close(fd);
		in->fd = -1;
		in->fd_rw = 0;
	} else {
		t->fds++;
	}
	in->top = top;
	in->nlookup = 1;
	in->lifetime = -1;
	pthread_mutex_init(&in->lock, NULL);
	writelog_init(&in->wlog);
	in->next = t->buckets[h];
	t->buckets[h] = in;
	t->count++;
	itable_grow(t);
	pthread_mutex_unlock(&t->lock);
	return in;
}

void itable_forget(struct inode_table *t, struct inode *in, uint64_t n)
{
	struct inode **pp;

	pthread_mutex_lock(&t->lock);
	if (n > in->nlookup)
		n = in->nlookup;
	in->nlookup -= n;
	if (in->nlookup) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	pp = in->stale ? &t->stale : &t->buckets[itable_hash(in->dev, in->ino, t->nbuckets)];
	while (*pp && *pp != in)
		pp = &(*pp)->next;
	if (*pp)
		*pp = in->next;
	if (!in->stale)
		t->count--;
	if (in->fd >= 0)
		t->fds--;
	pthread_mutex_unlock(&t->lock);
	if (t->gone)
		t->gone(in, t->gone_arg);
	inode_free(in);
}

size_t itable_count(struct inode_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void itable_on_gone(struct inode_table *t, void (*fn)(struct inode *in, void *arg), void *arg)
{
	t->gone = fn;
	t->gone_arg = arg;
}

void itable_set_fd_budget(struct inode_table *t, size_t n)
{
	pthread_mutex_lock(&t->lock);
	t->fd_budget = n;
	pthread_mutex_unlock(&t->lock);
}

int itable_keeps_fd(struct inode_table *t)
{
	int keeps;

	pthread_mutex_lock(&t->lock);
	keeps = !t->fd_budget || t->fds < t->fd_budget;
	pthread_mutex_unlock(&t->lock);
	return keeps;
}

int inode_fd(struct inode *in)
{
	int fd;

	if (in->fd >= 0)
		return in->fd;
	fd = open_by_handle_at(in->store->mntfd, in->handle, O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void inode_fd_done(struct inode *in, int fd)
{
	if (fd >= 0 && fd != in->fd)
		close(fd);
}

int inode_reopen(struct inode *in, int flags)
{
	int fd;

	if (in->fd >= 0)
		return store_reopen(in->fd, flags);
	/* O_NONBLOCK as in store_reopen: never wait on a lease. */
	fd = open_by_handle_at(in->store->mntfd, in->handle, flags | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : store_nonblock_done(fd, flags);
}

/* A segment's lifetime is read from its backing object once, then kept
 * (the lifetime xattr handler updates it): lookups, opens and releases ask. */
enum lifetime inode_lifetime(struct inode *in)
{
	int lt;

	if (in->type != S_IFREG)
		return in->store->lifetime;
	lt = __atomic_load_n(&in->lifetime, __ATOMIC_RELAXED);
	if (lt < 0) {
		int fd = inode_fd(in);

		if (fd < 0)
			return in->store->lifetime; /* gone: asked again next time */
		lt = (int)store_lifetime_of(in->store, fd);
		inode_fd_done(in, fd);
		__atomic_store_n(&in->lifetime, lt, __ATOMIC_RELAXED);
	}
	return (enum lifetime)lt;
}

void inode_forget_lifetime(struct inode *in)
{
	__atomic_store_n(&in->lifetime, -1, __ATOMIC_RELAXED);
}
