/* watch.c: fanotify marks on the stores' directories, and the thread that
 * turns their events into invalidations. See watch.h. fanotify, not
 * inotify: each event names the process that made the change, so the
 * daemon's own changes are left out exactly, and directory and child come
 * by file handle and name in one bounded queue. Inode marks, one per
 * directory the kernel looked up: no CAP_SYS_ADMIN, no whole filesystem.
 * Kernel facts (fs/fuse/dir.c, readdir.c, inode.c): notify_inval_entry
 * drops the dentry and marks its directory changed; notify_inval_inode
 * drops the attributes, and with offset 0 the page cache too (a
 * directory's cached listing). Both take that inode's kernel locks: called
 * from the watch thread only, never under this module's lock. */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define WATCH_EVENTS (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ATTRIB | \
		      FAN_MODIFY)
#define WATCH_NAMESPACE (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)
#define WATCH_PENDING_MAX 1024 /* removals queued for the thread; past it: all */
#define WATCH_GATHER_MS 10     /* the thread reads events at most this often */
#define WATCH_MATCHES 4        /* records of one directory (a store grafted twice) */

/* A directory as fanotify names it: filesystem id and file handle. */
struct watch_fid {
	int32_t fsid[2];
	int type;
	unsigned int bytes;
	unsigned char handle[MAX_HANDLE_SZ];
};

/* One per inode the kernel was given by a lookup. */
struct watch_rec {
	struct watch_rec *next;     /* chain by node id */
	struct watch_rec *next_dir; /* chain by file handle, marked directories */
	struct inode *in;
	fuse_ino_t nodeid;
	fuse_ino_t parent;          /* where the kernel last looked it up, 0: nowhere */
	char *name;                 /* the name it was looked up by (the mount's) */
	int covered;                /* a mark reports changes of it and its entry */
	int marked;                 /* a directory with a mark: fid is set */
	struct watch_fid fid;
};

/* A name the daemon removed itself, for the thread to invalidate. */
struct watch_gone {
	struct watch_gone *next;
	fuse_ino_t parent;
	char name[];
};

struct watch {
	struct shmfs *fs;
	int fan;                    /* the fanotify group */
	int wake;                   /* eventfd: a removal queued, or stop */
	pid_t pid;
	pthread_t thread;
	pthread_mutex_t lock;       /* everything below */
	struct watch_rec **nodes, **dirs;
	size_t nbuckets, count;
	struct watch_gone *gone;
	size_t ngone;
	int gone_overflow;          /* more removals than WATCH_PENDING_MAX */
	int running;                /* the thread was started */
	int stopping;
	int warned_mark;            /* a refused mark was logged */
	time_t logged_lost;         /* when lost events were last logged at info level
				     * (the thread's own) */
	int64_t root_answered;      /* when a GETATTR of the root was first answered */
};

/* Whether the kernel surely holds the root's real attributes: before its
 * first GETATTR it has rootmode's (no permission bits) and drops an answer
 * an invalidation overtakes, refusing all but root. So for a second after
 * that answer the root is not invalidated, nor cached long. */
static int watch_root_known(struct watch *w)
{
	int64_t t = __atomic_load_n(&w->root_answered, __ATOMIC_RELAXED);

	return t && clock_mono_ns() - t > 1000000000LL;
}

/* notify_inval_inode, except the root's while watch_root_known says no. */
static void watch_inval_inode(struct watch *w, fuse_ino_t nodeid, off_t off)
{
	if (nodeid == FUSE_ROOT_ID && !watch_root_known(w))
		return;
	fuse_lowlevel_notify_inval_inode(w->fs->se, nodeid, off, 0);
}

static size_t watch_hash_node(fuse_ino_t nodeid, size_t n)
{
	return (size_t)((nodeid >> 4) * 0x9e3779b97f4a7c15ULL >> 20) % n;
}

static size_t watch_hash_fid(const struct watch_fid *f, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (unsigned int i = 0; i < f->bytes; i++)
		h = (h ^ f->handle[i]) * 1099511628211ULL;
	h ^= (uint64_t)(uint32_t)f->fsid[0] ^ ((uint64_t)(uint32_t)f->fsid[1] << 32);
	return (size_t)(h % n);
}

static int watch_fid_equal(const struct watch_fid *a, const struct watch_fid *b)
{
	return a->fsid[0] == b->fsid[0] && a->fsid[1] == b->fsid[1] && a->type == b->type &&
	       a->bytes == b->bytes && memcmp(a->handle, b->handle, a->bytes) == 0;
}

static fuse_ino_t watch_nodeid(struct watch *w, struct inode *in)
{
	return in == &w->fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

static struct watch_rec *watch_find(struct watch *w, fuse_ino_t nodeid)
{
	struct watch_rec *r = w->nodes[watch_hash_node(nodeid, w->nbuckets)];

	while (r && r->nodeid != nodeid)
		r = r->next;
	return r;
}

static void watch_link(struct watch *w, struct watch_rec *r)
{
	size_t b = watch_hash_node(r->nodeid, w->nbuckets);

	r->next = w->nodes[b];
	w->nodes[b] = r;
	if (r->marked) {
		b = watch_hash_fid(&r->fid, w->nbuckets);
		r->next_dir = w->dirs[b];
		w->dirs[b] = r;
	}
}

static void watch_unlink_dir(struct watch *w, struct watch_rec *r)
{
	struct watch_rec **pp = &w->dirs[watch_hash_fid(&r->fid, w->nbuckets)];

	while (*pp && *pp != r)
		pp = &(*pp)->next_dir;
	if (*pp)
		*pp = r->next_dir;
}

/* Twice the buckets once there are more records than buckets. */
static void watch_grow(struct watch *w)
{
	size_t n = w->nbuckets * 2;
	struct watch_rec **nodes = calloc(n, sizeof(*nodes)), **dirs = calloc(n, sizeof(*dirs));
	struct watch_rec *all = NULL, *r;

	if (!nodes || !dirs) {
		free(nodes);
		free(dirs);
		return; /* longer chains, nothing worse */
	}
	for (size_t i = 0; i < w->nbuckets; i++)
		while ((r = w->nodes[i])) {
			w->nodes[i] = r->next;
			r->next = all;
			all = r;
		}
	free(w->nodes);
	free(w->dirs);
	w->nodes = nodes;
	w->dirs = dirs;
	w->nbuckets = n;
	while ((r = all)) {
		all = r->next;
		watch_link(w, r);
	}
}

static int watch_fid_of(int fd, struct watch_fid *f)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	struct statfs sf;
	int mount_id;

	u.fh.handle_bytes = MAX_HANDLE_SZ;
	if (fstatfs(fd, &sf) || name_to_handle_at(fd, "", &u.fh, &mount_id, AT_EMPTY_PATH))
		return -errno;
	memcpy(f->fsid, &sf.f_fsid, sizeof(f->fsid));
	f->type = u.fh.handle_type;
	f->bytes = u.fh.handle_bytes;
	memcpy(f->handle, u.fh.f_handle, f->bytes);
	return 0;
}

/* Mark r's directory (lock held). The mark is placed through the
 * /proc/self/fd link of the daemon's own fd of it, which names that very
 * object: no path is resolved again, no symlink followed. */
static void watch_mark(struct watch *w, struct watch_rec *r)
{
	char path[64];
	int fd = inode_fd(r->in), err = 0;

	if (fd < 0)
		return;
	if (!store_fs_local(fd))
		err = EXDEV;
	else if (watch_fid_of(fd, &r->fid))
		err = errno;
	if (!err) {
		store_fd_path(fd, path, sizeof(path));
		if (fanotify_mark(w->fan, FAN_MARK_ADD | FAN_MARK_ONLYDIR,
				  WATCH_EVENTS | FAN_EVENT_ON_CHILD | FAN_ONDIR, AT_FDCWD, path))
			err = errno;
	}
	inode_fd_done(r->in, fd);
	if (!err) {
		r->marked = 1;
		return;
	}
	if (!w->warned_mark)
		log_warnx("a store directory is not watched (%s): what is in it is cached for "
			  "attr_timeout (%g s) only", err == EXDEV ? "not a local filesystem" :
			  err == ENOSPC ? "fs.fanotify.max_user_marks reached" : strerror(err),
			  w->fs->timeout);
	w->warned_mark = 1;
}

static void watch_unmark(struct watch *w, struct watch_rec *r)
{
	struct watch_rec *o = w->dirs[watch_hash_fid(&r->fid, w->nbuckets)];
	char path[64];
	int fd;

	for (; o; o = o->next_dir)
		if (o != r && watch_fid_equal(&o->fid, &r->fid))
			return; /* another record of the same directory keeps the mark */
	fd = inode_fd(r->in);
	if (fd < 0)
		return;
	store_fd_path(fd, path, sizeof(path));
	fanotify_mark(w->fan, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR,
		      WATCH_EVENTS | FAN_EVENT_ON_CHILD | FAN_ONDIR, AT_FDCWD, path);
	inode_fd_done(r->in, fd);
}

static struct watch_rec *watch_add(struct watch *w, struct inode *in)
{
	struct watch_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->in = in;
	r->nodeid = watch_nodeid(w, in);
	if (in->type == S_IFDIR)
		watch_mark(w, r);
	if (++w->count > w->nbuckets)
		watch_grow(w);
	watch_link(w, r);
	return r;
}

/* Note that the kernel knows r by name in parent (lock held). */
/* Queue name in parent for the thread to invalidate (lock held): a name
 * the daemon removed, or an object's old name once it is found by a new one
 * (renamed behind the mount, its event maybe lost; a link is looked up
 * again, no more). */
static void watch_queue(struct watch *w, fuse_ino_t parent, const char *name)
{
	struct watch_gone *g = w->ngone < WATCH_PENDING_MAX ?
				       malloc(sizeof(*g) + strlen(name) + 1) : NULL;

	if (!g) {
		w->gone_overflow = 1;
		return;
	}
	g->parent = parent;
	strcpy(g->name, name);
	g->next = w->gone;
	w->gone = g;
	w->ngone++;
}

/* r was looked up as name in parent (lock held): 1 if an old name was queued. */
static int watch_name(struct watch *w, struct watch_rec *r, fuse_ino_t parent, const char *name)
{
	int queued = r->name && r->in->type != S_IFDIR;
	char *copy;

	if (r->parent == parent && r->name && strcmp(r->name, name) == 0)
		return 0;
	if (queued)
		watch_queue(w, r->parent, r->name);
	copy = strdup(name);
	if (!copy)
		return queued; /* the old name stays: an overflow invalidates a name too few */
	free(r->name);
	r->name = copy;
	r->parent = parent;
	return queued;
}

static void watch_wake(struct watch *w)
{
	uint64_t one = 1;

	if (write(w->wake, &one, sizeof(one)) < 0) /* full: it is awake anyway */
		log_debug("watch: waking the thread: %s", strerror(errno));
}

int watch_entry(struct shmfs *fs, struct inode *dir, const char *name,
		struct fuse_entry_param *e)
{
	struct watch *w = fs->watch;
	struct inode *in = (struct inode *)(uintptr_t)e->ino;
	struct watch_rec *r, *d;
	struct graft *g;
	int wake = 0;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	r = watch_find(w, e->ino);
	if (!r)
		r = watch_add(w, in);
	d = watch_find(w, watch_nodeid(w, dir));
	if (r && d) {
		wake = watch_name(w, r, d->nodeid, name);
		/* A declared name of the root lives in a store of its own: a
		 * directory is watched by its own mark, a segment not at all. */
		g = dir == &fs->root ? stores_graft(&fs->stores, name) : NULL;
		r->covered = g ? g->decl->is_dir && r->marked : d->marked;
		if (r->covered && e->entry_timeout > 0) {
			e->entry_timeout = WATCH_TIMEOUT;
			e->attr_timeout = WATCH_TIMEOUT;
		}
	}
	pthread_mutex_unlock(&w->lock);
	if (wake)
		watch_wake(w);
	return 0;
}

double watch_attr_timeout(struct shmfs *fs, struct inode *in)
{
	struct watch *w = fs->watch;
	struct watch_rec *r;
	int covered;

	if (!w || (in->type == S_IFREG && lifetime_uncached_entries(inode_lifetime(in))))
		return fs->timeout;
	if (in == &fs->root && !__atomic_load_n(&w->root_answered, __ATOMIC_RELAXED))
		__atomic_store_n(&w->root_answered, clock_mono_ns(), __ATOMIC_RELAXED);
	if (in == &fs->root && !watch_root_known(w))
		return fs->timeout;
	pthread_mutex_lock(&w->lock);
	r = watch_find(w, watch_nodeid(w, in));
	covered = r && r->covered;
	pthread_mutex_unlock(&w->lock);
	return covered ? WATCH_TIMEOUT : fs->timeout;
}

int watch_caches_dir(struct shmfs *fs, struct inode *dir)
{
	struct watch *w = fs->watch;
	struct watch_rec *r;
	int marked;

	if (!w || (dir == &fs->root && !watch_root_known(w)))
		return 0;
	pthread_mutex_lock(&w->lock);
	r = watch_find(w, watch_nodeid(w, dir));
	marked = r && r->marked;
	pthread_mutex_unlock(&w->lock);
	return marked;
}

void watch_removed(struct shmfs *fs, struct inode *in)
{
	struct watch *w = fs->watch;
	struct watch_rec *r;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	r = watch_find(w, watch_nodeid(w, in));
	if (r && r->name)
		watch_queue(w, r->parent, r->name);
	else if (r)
		w->gone_overflow = 1;
	pthread_mutex_unlock(&w->lock);
	if (r)
		watch_wake(w);
}

void watch_forget(struct shmfs *fs, struct inode *in)
{
	struct watch *w = fs->watch;
	struct watch_rec **pp, *r;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	pp = &w->nodes[watch_hash_node(watch_nodeid(w, in), w->nbuckets)];
	while (*pp && (*pp)->in != in)
		pp = &(*pp)->next;
	r = *pp;
	if (r) {
		*pp = r->next;
		w->count--;
		if (r->marked) {
			watch_unlink_dir(w, r);
			watch_unmark(w, r);
		}
	}
	pthread_mutex_unlock(&w->lock);
	if (r) {
		free(r->name);
		free(r);
	}
}

/* What one event asks of the kernel, worked out under the lock and done
 * after it. */
struct watch_act {
	fuse_ino_t dir;
	int entry;               /* the name's entry and the directory's listing */
	int self;                /* the directory's own attributes */
	int child;               /* st is what the name holds now */
	struct stat st;
	char name[NAME_MAX + 1]; /* the mount's name */
};

/* The attributes of the object st describes, if the kernel knows it. */
static void watch_inval_object(struct watch *w, const struct stat *st)
{
	struct inode *in = itable_find(&w->fs->inodes, st);
	fuse_ino_t nodeid;

	if (!in)
		return; /* never looked up: nothing cached */
	nodeid = (fuse_ino_t)(uintptr_t)in;
	itable_forget(&w->fs->inodes, in, 1);
	/* Gone meanwhile: the kernel answers ENOENT, or the id is a new
	 * inode's, whose attributes are then fetched once more. */
	watch_inval_inode(w, nodeid, -1);
}

static void watch_act(struct watch *w, const struct watch_act *a)
{
	struct fuse_session *se = w->fs->se;

	if (a->entry) {
		fuse_lowlevel_notify_inval_entry(se, a->dir, a->name, strlen(a->name));
		watch_inval_inode(w, a->dir, 0);
	}
	if (a->self)
		watch_inval_inode(w, a->dir, -1);
	if (a->child)
		watch_inval_object(w, &a->st);
}

/* Fill a for an event of r's directory (lock held): 0, or -1 when the
 * name is not one the mount shows. */
static int watch_plan(struct watch_rec *r, const char *name, uint64_t mask, struct watch_act *a)
{
	const char *shown;
	int fd;

	memset(a, 0, sizeof(*a));
	a->dir = r->nodeid;
	if (strcmp(name, ".") == 0) {
		a->self = !!(mask & FAN_ATTRIB);
		return 0;
	}
	shown = store_visible_name(r->in->store, r->in->top, name);
	if (!shown || strlen(shown) > NAME_MAX)
		return -1;
	strcpy(a->name, shown);
	a->entry = !!(mask & WATCH_NAMESPACE);
	if (!(mask & (FAN_CREATE | FAN_MOVED_TO | FAN_ATTRIB | FAN_MODIFY)))
		return 0;
	/* A new name may be a new link of an object the kernel knows (its
	 * link count changed); looked at, never opened or followed. */
	fd = inode_fd(r->in);
	if (fd >= 0) {
		a->child = fstatat(fd, name, &a->st, AT_SYMLINK_NOFOLLOW) == 0;
		inode_fd_done(r->in, fd);
	}
	return 0;
}

static void watch_dir_event(struct watch *w, const struct watch_fid *f, const char *name,
			    uint64_t mask)
{
	struct watch_act acts[WATCH_MATCHES];
	struct watch_rec *r;
	int n = 0;

	pthread_mutex_lock(&w->lock);
	for (r = w->dirs[watch_hash_fid(f, w->nbuckets)]; r && n < WATCH_MATCHES; r = r->next_dir)
		if (watch_fid_equal(&r->fid, f) && watch_plan(r, name, mask, &acts[n]) == 0)
			n++;
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < n; i++)
		watch_act(w, &acts[i]);
}

/* One event (ev, of meta.event_len bytes): its directory (file handle)
 * and name, "." for the directory itself. Records in the buffer are only
 * 4-byte aligned, so their headers are copied out; their lengths come from
 * the kernel and are checked all the same. */
static void watch_event(struct watch *w, const char *ev, const struct fanotify_event_metadata *meta)
{
	const char *p = ev + meta->metadata_len, *end = ev + meta->event_len;
	struct fanotify_event_info_fid info;
	struct file_handle fh;

	while (p + sizeof(info) + sizeof(fh) <= end) {
		const char *rec_end, *handle, *name = ".";
		struct watch_fid f;

		memcpy(&info, p, sizeof(info));
		memcpy(&fh, p + sizeof(info), sizeof(fh));
		rec_end = p + info.hdr.len;
		if (info.hdr.len < sizeof(info) + sizeof(fh) || rec_end > end)
			return;
		if (info.hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
		    info.hdr.info_type == FAN_EVENT_INFO_TYPE_DFID) {
			handle = p + sizeof(info) + sizeof(fh);
			if (fh.handle_bytes > MAX_HANDLE_SZ || handle + fh.handle_bytes > rec_end)
				return;
			if (info.hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
				name = handle + fh.handle_bytes;
				if (memchr(name, '\0', (size_t)(rec_end - name)) == NULL)
					return;
			}
			memcpy(f.fsid, &info.fsid, sizeof(f.fsid));
			f.type = fh.handle_type;
			f.bytes = fh.handle_bytes;
			memcpy(f.handle, handle, f.bytes);
			watch_dir_event(w, &f, name, meta->mask);
			return;
		}
		p = rec_end;
	}
}

/* The queue overflowed (events were lost) or too many removals were
 * queued: every entry and inode the kernel was given is invalidated.
 * Negative entries cannot be named; they keep attr_timeout always. */
static void watch_all(struct watch *w)
{
	struct fuse_session *se = w->fs->se;
	struct watch_all { fuse_ino_t nodeid, parent; int dir; char *name; } *all;
	struct timespec now;
	struct watch_rec *r;
	size_t n = 0;

	pthread_mutex_lock(&w->lock);
	all = calloc(w->count ? w->count : 1, sizeof(*all));
	for (size_t b = 0; all && b < w->nbuckets; b++)
		for (r = w->nodes[b]; r && n < w->count; r = r->next, n++) {
			all[n].nodeid = r->nodeid;
			all[n].parent = r->parent;
			all[n].dir = r->in->type == S_IFDIR;
			all[n].name = r->name ? strdup(r->name) : NULL;
		}
	pthread_mutex_unlock(&w->lock);
	if (!all) {
		log_warnx("store watch: events were lost and there is no memory to invalidate "
			  "the caches: direct changes show after attr_timeout at the latest");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (all[i].name)
			fuse_lowlevel_notify_inval_entry(se, all[i].parent, all[i].name,
							 strlen(all[i].name));
		watch_inval_inode(w, all[i].nodeid, all[i].dir ? 0 : -1);
		free(all[i].name);
	}
	free(all);
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Anyone who may write the store can make this happen: logged at
	 * most once a minute. */
	log_msg(now.tv_sec - w->logged_lost >= 60 || !w->logged_lost ? LOG_LEVEL_INFO :
		LOG_LEVEL_DEBUG, "store watch: events were lost (more changes at once than "
		"fs.fanotify.max_queued_events): all %zu cached inodes invalidated", n);
	if (now.tv_sec - w->logged_lost >= 60 || !w->logged_lost)
		w->logged_lost = now.tv_sec;
}

/* Names the daemon removed itself (watch_removed). */
static void watch_drain(struct watch *w)
{
	struct watch_gone *list, *g;
	int overflow;

	pthread_mutex_lock(&w->lock);
	list = w->gone;
	overflow = w->gone_overflow;
	w->gone = NULL;
	w->ngone = 0;
	w->gone_overflow = 0;
	pthread_mutex_unlock(&w->lock);
	while ((g = list)) {
		list = g->next;
		fuse_lowlevel_notify_inval_entry(w->fs->se, g->parent, g->name, strlen(g->name));
		watch_inval_inode(w, g->parent, 0);
		free(g);
	}
	if (overflow)
		watch_all(w);
}

/* Read what is queued; events of the daemon's own process are what the
 * kernel asked for, and it knows them. */
static void watch_read(struct watch *w, char *buf, size_t len)
{
	int overflow = 0;
	ssize_t n;

	while ((n = read(w->fan, buf, len)) > 0) {
		struct fanotify_event_metadata m;

		for (size_t off = 0; off + sizeof(m) <= (size_t)n; off += m.event_len) {
			memcpy(&m, buf + off, sizeof(m));
			if (m.event_len < sizeof(m) || m.event_len > (size_t)n - off)
				break;
			if (m.vers != FANOTIFY_METADATA_VERSION || m.metadata_len < sizeof(m))
				continue;
			if (m.mask & FAN_Q_OVERFLOW)
				overflow = 1;
			else if (m.pid != w->pid)
				watch_event(w, buf + off, &m);
		}
	}
	if (overflow)
		watch_all(w);
}

static void *watch_thread(void *arg)
{
	struct watch *w = arg;
	struct pollfd p[2] = { { .fd = w->fan, .events = POLLIN },
			       { .fd = w->wake, .events = POLLIN } };
	size_t len = 64 * 1024;
	char *buf = malloc(len);
	struct timespec gather = { 0, WATCH_GATHER_MS * 1000000L };
	uint64_t v;
	int stop = 0;

	while (buf && !stop) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("store watch: poll");
			break;
		}
		if (p[1].revents & POLLIN) {
			if (read(w->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_warn("store watch: eventfd");
			pthread_mutex_lock(&w->lock);
			stop = w->stopping;
			pthread_mutex_unlock(&w->lock);
			watch_drain(w);
		}
		if (p[0].revents & POLLIN) {
			watch_read(w, buf, len);
			/* Let events gather: the kernel merges repeated ones of
			 * one object (a writer's every write(2) is a FAN_MODIFY)
			 * while they wait in the queue, and a writer whose event
			 * merges neither allocates one nor wakes this thread. */
			nanosleep(&gather, NULL);
		}
	}
	free(buf);
	return NULL;
}

static void watch_free(struct watch *w)
{
	struct watch_rec *r;
	struct watch_gone *g;

	for (size_t b = 0; w->nodes && b < w->nbuckets; b++)
		while ((r = w->nodes[b])) {
			w->nodes[b] = r->next;
			free(r->name);
			free(r);
		}
	while ((g = w->gone)) {
		w->gone = g->next;
		free(g);
	}
	free(w->nodes);
	free(w->dirs);
	if (w->wake >= 0)
		close(w->wake);
	close(w->fan); /* the marks go with the group */
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int watch_open(struct shmfs *fs)
{
	struct watch_rec *root;
	struct watch *w;

	if (fs->timeout <= 0 || !fs->cfg.watch)
		return 0; /* nothing is cached, or the config says so */
	w = calloc(1, sizeof(*w));
	if (!w)
		return 0;
	w->fs = fs;
	w->wake = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
			       O_RDONLY | O_CLOEXEC);
	if (w->fan < 0) {
		log_info("the stores are not watched (fanotify: %s): entries and attributes are "
			 "cached for attr_timeout (%g s)", strerror(errno), fs->timeout);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return 0;
	}
	w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->nbuckets = 1024;
	w->nodes = calloc(w->nbuckets, sizeof(*w->nodes));
	w->dirs = calloc(w->nbuckets, sizeof(*w->dirs));
	if (w->wake < 0 || !w->nodes || !w->dirs || !(root = watch_add(w, &fs->root))) {
		log_warnx("the stores are not watched (out of resources): entries and attributes "
			  "are cached for attr_timeout (%g s)", fs->timeout);
		watch_free(w);
		return 0;
	}
	root->covered = root->marked;
	fs->watch = w;
	return 0;
}

int watch_start(struct shmfs *fs)
{
	struct watch *w = fs->watch;
	sigset_t all, old;
	int rc;

	if (!w)
		return 0;
	w->pid = getpid(); /* after fuse_daemonize's fork */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, watch_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		log_warnx("the stores are not watched (no thread: %s): entries and attributes are "
			  "cached for attr_timeout (%g s)", strerror(rc), fs->timeout);
		fs->watch = NULL;
		watch_free(w);
		return 0;
	}
	w->running = 1;
	log_debug("store watch: entries and attributes of watched directories are cached for %g s",
		  WATCH_TIMEOUT);
	return 0;
}

void watch_stop(struct shmfs *fs)
{
	struct watch *w = fs->watch;

	if (!w)
		return;
	if (w->running) {
		pthread_mutex_lock(&w->lock);
		w->stopping = 1;
		pthread_mutex_unlock(&w->lock);
		watch_wake(w);
		pthread_join(w->thread, NULL);
	}
	fs->watch = NULL;
	watch_free(w);
}
