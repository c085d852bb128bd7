/* request.c: what the daemon notes of each request it takes, whichever
 * transport brought it (the read hook of /dev/fuse in passthrough.c, or a
 * ring queue in uring.c). */
#include "request.h"

#include "fuse_abi.h"
#include "killpriv.h"

void request_note(struct shmfs *fs, const void *buf, size_t n, int ordered)
{
	const struct shmfs_fuse_in_header *in = buf;
	const struct shmfs_fuse_init_in *init = (const void *)(in + 1);

	killpriv_note(buf, n);
	order_note(&fs->order, buf, n, ordered);
	if (n >= sizeof(*in) + sizeof(*init) && in->opcode == SHMFS_FUSE_INIT) {
		int ext = !!(init->flags & SHMFS_FUSE_INIT_EXT);

		fs->init_unique = in->unique;
		fs->kernel_offers_passthrough = ext && (init->flags2 & SHMFS_FUSE_PASSTHROUGH_FLAGS2);
		fs->kernel_offers_killpriv_v2 = !!(init->flags & SHMFS_FUSE_HANDLE_KILLPRIV_V2);
		fs->kernel_offers_dio_mmap = ext &&
					     (init->flags2 & SHMFS_FUSE_DIRECT_IO_ALLOW_MMAP_FLAGS2);
		fs->kernel_offers_uring = ext && (init->flags2 & SHMFS_FUSE_OVER_IO_URING_FLAGS2);
	}
}
