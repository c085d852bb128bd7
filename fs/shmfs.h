/* shmfs.h: the mount's context, shared by the FUSE handlers. fs/ is laid out
 * in layers (docs/ARCHITECTURE.md): node.h and datapath.h below the handlers
 * of ops.h; a handler never calls another file's handler. */
#ifndef SHMFS_SHMFS_H
#define SHMFS_SHMFS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <stdint.h>

#include "config.h"
#include "creds.h"
#include "inode.h"
#include "order.h"
#include "store.h"
#include "stores.h"

struct watch;

struct shmfs {
	struct config cfg;
	struct stores stores;
	struct inode root;           /* FUSE_ROOT_ID: the root store's top directory */
	struct inode_table inodes;
	struct fuse_session *se;
	double timeout;              /* entry and attribute timeout, seconds */
	struct order order;          /* data requests in the kernel's order */
	struct watch *watch;         /* direct changes to the stores (watch.c), or NULL;
				      * set before the loop, cleared after it */

	/* Passthrough state, fixed once FUSE_INIT is answered. */
	int kernel_offers_passthrough; /* FUSE_INIT offered FUSE_PASSTHROUGH */
	int kernel_offers_killpriv_v2; /* ... and FUSE_HANDLE_KILLPRIV_V2 */
	int kernel_offers_dio_mmap;    /* ... and FUSE_DIRECT_IO_ALLOW_MMAP */
	uint64_t init_unique;          /* unique of the FUSE_INIT request, or 0 */
	int passthrough_negotiated;    /* the INIT reply asked for it */
	int passthrough;               /* opens may use kernel passthrough */
	char passthrough_why[256];     /* why not, when passthrough is 0 */
	/* Cached-mode opens are FOPEN_DIRECT_IO (read/write to the daemon,
	 * mappings in the page cache): the INIT reply asked for
	 * FUSE_DIRECT_IO_ALLOW_MMAP. See ops_io.c. */
	int cached_direct_io;

	/* The transport (uring.c), fixed once the mount is live. */
	struct uring *uring;           /* NULL: requests come through /dev/fuse */
	int kernel_offers_uring;       /* FUSE_INIT offered FUSE_OVER_IO_URING */
	int uring_negotiated;          /* the INIT reply asked for it */
	uint32_t init_max_write;       /* of the INIT reply: the largest request */
	uint32_t init_max_pages;
	char uring_why[256];           /* why not io_uring */
	uint64_t dev_reads;            /* requests read from /dev/fuse; atomic */
	uint64_t ring_requests;        /* requests served from the ring; atomic */
	int protected_regular;         /* fs.protected_regular at start */
	/* Cached-mode writes of mapped pages (writeback) the store refused;
	 * atomic, see cached_io.c. */
	uint64_t writeback_errors;
};

static inline struct shmfs *shmfs_data(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

#endif
