/* aligned_map.h: a file mapped MAP_SHARED at a 2 MiB-aligned address with
 * every page touched, as a program using a huge-page segment would map it,
 * and how much of that mapping the kernel maps with PMDs (huge pages).
 * Shared by tests/integration/touch_map.c and tests/bench/tlb.c.
 *
 * The address is aligned by hand: a mapping through a FUSE file gets an
 * address from FUSE, which does not align for huge pages as tmpfs does, and
 * a huge page can only be mapped by one PMD at a 2 MiB boundary. */
#ifndef SHMFS_TESTS_ALIGNED_MAP_H
#define SHMFS_TESTS_ALIGNED_MAP_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALIGNED_MAP_ALIGN (2UL << 20)

/* The first size bytes of fd mapped MAP_SHARED, read and write, at a 2 MiB
 * boundary, after a store to every page; NULL (errno set) when it fails.
 * A store past the end of what backs the file is a SIGBUS. */
static inline unsigned char *aligned_map_touch(int fd, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *res, *at, *p;

	/* Reserve room, then map the file at its first aligned address. */
	res = mmap(NULL, size + ALIGNED_MAP_ALIGN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	at = (unsigned char *)(((uintptr_t)res + ALIGNED_MAP_ALIGN - 1) & ~(ALIGNED_MAP_ALIGN - 1));
	if (at > res)
		munmap(res, (size_t)(at - res));
	munmap(at + size, (size_t)(res + size + ALIGNED_MAP_ALIGN - (at + size)));
	p = mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	for (size_t off = 0; off < size; off += page)
		p[off] = 1;
	return p;
}

/* KB of the mapping that starts at addr mapped by PMDs (FilePmdMapped plus
 * ShmemPmdMapped of its /proc/self/smaps entry); -1 when smaps is
 * unreadable. */
static inline long aligned_map_pmd_kb(const void *addr)
{
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");
	long kb = 0, v;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		/* An entry's first line: "start-end perms ..." */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start == (uintptr_t)addr;
			continue;
		}
		if (in && (sscanf(line, "FilePmdMapped: %ld kB", &v) == 1 ||
			   sscanf(line, "ShmemPmdMapped: %ld kB", &v) == 1))
			kb += v;
	}
	fclose(f);
	return kb;
}

#endif
