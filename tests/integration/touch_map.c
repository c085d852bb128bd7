/* touch_map: map a file MAP_SHARED at a 2 MiB-aligned address and store to
 * every page of it, as a program using a segment would.
 *
 *   touch_map PATH SIZE      (SIZE in bytes; the file is made that long first)
 *
 * The address is aligned by hand: a mapping through a FUSE file gets an
 * address from FUSE, which does not align for huge pages as tmpfs does, and
 * a huge page can only be mapped by one PMD at a 2 MiB boundary.
 * Prints "pmd KB" (FilePmdMapped plus ShmemPmdMapped of this mapping, from
 * /proc/self/smaps) and exits 0. A store past the store's size is a SIGBUS,
 * which kills it (the test sees the signal). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALIGN (2UL << 20)

/* KB of PMD-mapped pages in the smaps entry that starts at addr. */
static long pmd_kb(uintptr_t addr)
{
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");
	long kb = 0, v;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = start == addr;
			continue;
		}
		if (in && (sscanf(line, "FilePmdMapped: %ld kB", &v) == 1 ||
			   sscanf(line, "ShmemPmdMapped: %ld kB", &v) == 1))
			kb += v;
	}
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	size_t size, page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *res, *at, *p;
	int fd;

	if (argc != 3)
		return 2;
	size = strtoull(argv[2], NULL, 0);
	fd = open(argv[1], O_CREAT | O_RDWR, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(argv[1]);
		return 1;
	}
	/* Reserve room, then map the file at its first aligned address. */
	res = mmap(NULL, size + ALIGN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return 1;
	at = (unsigned char *)(((uintptr_t)res + ALIGN - 1) & ~(ALIGN - 1));
	p = mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t off = 0; off < size; off += page)
		p[off] = 1;
	printf("pmd %ld\n", pmd_kb((uintptr_t)p));
	return 0;
}
