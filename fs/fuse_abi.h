/* fuse_abi.h: the kernel FUSE ABI that libfuse 3.14 does not know.
 *
 * From include/uapi/linux/fuse.h (protocol 7.40, Linux 6.9+). Defined here
 * so that the build never depends on the system's linux/fuse.h having them. */
#ifndef SHMFS_FUSE_ABI_H
#define SHMFS_FUSE_ABI_H

#include <stdint.h>
#include <sys/ioctl.h>

#define SHMFS_FUSE_INIT 26                      /* opcode */
#define SHMFS_FUSE_ATOMIC_O_TRUNC (1u << 3)     /* fuse_init_in/out.flags */
#define SHMFS_FUSE_WRITEBACK_CACHE (1u << 16)
#define SHMFS_FUSE_HANDLE_KILLPRIV_V2 (1u << 28)
#define SHMFS_FUSE_INIT_EXT (1u << 30)          /* flags2 is valid */
#define SHMFS_FUSE_DIRECT_IO_ALLOW_MMAP_FLAGS2 (1u << 4) /* bit 36, Linux 6.6+ */
#define SHMFS_FUSE_PASSTHROUGH_FLAGS2 (1u << 5) /* flag bit 37, in flags2 */
#define SHMFS_FUSE_OVER_IO_URING_FLAGS2 (1u << 9) /* bit 41, protocol 7.42, Linux 6.14+ */
#define SHMFS_FOPEN_DIRECT_IO (1u << 0)
#define SHMFS_FOPEN_NOFLUSH (1u << 5)
#define SHMFS_FOPEN_PASSTHROUGH (1u << 7)

struct shmfs_fuse_in_header {
	uint32_t len;
	uint32_t opcode;
	uint64_t unique;
	uint64_t nodeid;
	uint32_t uid;
	uint32_t gid;
	uint32_t pid;
	uint16_t total_extlen;
	uint16_t padding;
};

/* What order.c reads of the requests that read or change a file's data. */
#define SHMFS_FUSE_SETATTR 4
#define SHMFS_FUSE_OPEN 14
#define SHMFS_FUSE_READ 15
#define SHMFS_FUSE_WRITE 16
#define SHMFS_FUSE_FALLOCATE 43
#define SHMFS_FATTR_SIZE (1u << 3)
#define SHMFS_FATTR_FH (1u << 6)
#define SHMFS_FATTR_LOCKOWNER (1u << 9)
#define SHMFS_FATTR_KILL_SUIDGID (1u << 11)
#define SHMFS_FUSE_WRITE_KILL_SUIDGID (1u << 2) /* fuse_write_in.write_flags */

struct shmfs_fuse_rw_in { /* the start of fuse_read_in and fuse_write_in */
	uint64_t fh;
	uint64_t offset;
	uint32_t size;
};

struct shmfs_fuse_write_in {
	uint64_t fh;
	uint64_t offset;
	uint32_t size;
	uint32_t write_flags;
};

struct shmfs_fuse_setattr_in { /* the start of fuse_setattr_in */
	uint32_t valid;
	uint32_t padding;
	uint64_t fh;
	uint64_t size;
};

struct shmfs_fuse_fallocate_in {
	uint64_t fh;
	uint64_t offset;
	uint64_t length;
	uint32_t mode;
	uint32_t padding;
};

struct shmfs_fuse_open_in {
	uint32_t flags;
	uint32_t open_flags;
};

struct shmfs_fuse_out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};

/* The start of fuse_init_in that passthrough negotiation reads. */
struct shmfs_fuse_init_in {
	uint32_t major;
	uint32_t minor;
	uint32_t max_readahead;
	uint32_t flags;
	uint32_t flags2;
};

/* fuse_init_out is 64 bytes; the fields patched for passthrough. */
#define SHMFS_INIT_OUT_SIZE 64
#define SHMFS_INIT_OUT_FLAGS 12          /* uint32_t flags */
#define SHMFS_INIT_OUT_MAX_WRITE 20      /* uint32_t max_write */
#define SHMFS_INIT_OUT_MAX_PAGES 28      /* uint16_t max_pages */
#define SHMFS_INIT_OUT_FLAGS2 32         /* uint32_t flags2 */
#define SHMFS_INIT_OUT_MAX_STACK_DEPTH 36 /* uint32_t max_stack_depth */

struct shmfs_fuse_open_out {
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};

struct shmfs_fuse_attr {
	uint64_t ino;
	uint64_t size;
	uint64_t blocks;
	uint64_t atime;
	uint64_t mtime;
	uint64_t ctime;
	uint32_t atimensec;
	uint32_t mtimensec;
	uint32_t ctimensec;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint32_t rdev;
	uint32_t blksize;
	uint32_t flags;
};

struct shmfs_fuse_entry_out {
	uint64_t nodeid;
	uint64_t generation;
	uint64_t entry_valid;
	uint64_t attr_valid;
	uint32_t entry_valid_nsec;
	uint32_t attr_valid_nsec;
	struct shmfs_fuse_attr attr;
};

struct shmfs_fuse_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};

#define SHMFS_FUSE_DEV_IOC_MAGIC 229
#define SHMFS_FUSE_DEV_IOC_BACKING_OPEN _IOW(SHMFS_FUSE_DEV_IOC_MAGIC, 1, struct shmfs_fuse_backing_map)
#define SHMFS_FUSE_DEV_IOC_BACKING_CLOSE _IOW(SHMFS_FUSE_DEV_IOC_MAGIC, 2, uint32_t)

/* FUSE over io_uring (include/uapi/linux/fuse.h 7.42, fs/fuse/dev_uring.c of
 * Linux 6.18). Each ring entry is two buffers the daemon registers: a
 * header (fuse_uring_req_header) and a payload of at least the mount's
 * largest request. A request arrives as its fuse_in_header in in_out, the
 * opcode's fixed argument (in_args[0]) in op_in, and every further argument
 * in the payload; a reply goes back as its fuse_out_header in in_out and
 * everything after it in the payload, with payload_sz saying how much. */
#define SHMFS_FUSE_URING_IN_OUT_HEADER_SZ 128
#define SHMFS_FUSE_URING_OP_IN_OUT_SZ 128

struct shmfs_fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;          /* the request's unique, for the commit */
	uint32_t payload_sz;         /* bytes used in the payload buffer */
	uint32_t padding;
	uint64_t reserved;
};

struct shmfs_fuse_uring_req_header {
	char in_out[SHMFS_FUSE_URING_IN_OUT_HEADER_SZ];
	char op_in[SHMFS_FUSE_URING_OP_IN_OUT_SZ];
	struct shmfs_fuse_uring_ent_in_out ring_ent_in_out;
};

/* io_uring_sqe.cmd_op of an IORING_OP_URING_CMD on the /dev/fuse fd. */
#define SHMFS_FUSE_IO_URING_CMD_REGISTER 1
#define SHMFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH 2

/* In the 80-byte command area of a 128-byte SQE. */
struct shmfs_fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;                /* the queue: a CPU number */
	uint8_t padding[6];
};

#endif
