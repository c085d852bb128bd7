/* tlb.c: "bench tlb FILE SIZE ACCESSES": random 8-byte loads and stores over
 * one segment of SIZE bytes (a power of two), the access pattern whose cost
 * is the TLB's: each access likely lands on a page whose translation is not
 * cached, and a 2 MiB page covers 512 times what a 4 KiB page does.
 *
 * FILE is made SIZE bytes long, mapped MAP_SHARED at a 2 MiB-aligned address
 * (FUSE does not align mappings for huge pages as tmpfs does) and every page
 * is touched before the clock starts. Prints one JSON line: nanoseconds per
 * load and per store, and how much of the mapping is PMD-mapped (huge). The
 * file is removed at the end. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define ALIGN (2UL << 20)

static uint64_t xorshift(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* KB of this mapping (starting at addr) mapped by PMDs, from smaps. */
static long tlb_pmd_kb(uintptr_t addr)
{
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long start, end;
	long kb = 0, v;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && line[0] != ' ' &&
		    strchr(line, ':') > strchr(line, ' ')) {
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

/* The file mapped at an aligned address, every page touched; NULL on error. */
static uint64_t *tlb_map(const char *path, size_t size)
{
	unsigned char *res, *at, *p;
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(path);
		return NULL;
	}
	res = mmap(NULL, size + ALIGN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	at = (unsigned char *)(((uintptr_t)res + ALIGN - 1) & ~(ALIGN - 1));
	if (at > res)
		munmap(res, (size_t)(at - res));
	munmap(at + size, (size_t)(res + size + ALIGN - (at + size)));
	p = mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	for (size_t off = 0; off < size; off += 4096)
		p[off] = 1;
	return (uint64_t *)p;
}

int bench_tlb_main(int argc, char **argv)
{
	uint64_t x = 88172645463325252ULL, sum = 0, *w;
	size_t size, words;
	double t0, load, store;
	long n;

	if (argc != 4) {
		fprintf(stderr, "usage: bench tlb FILE SIZE ACCESSES\n");
		return 2;
	}
	size = strtoull(argv[2], NULL, 0);
	n = atol(argv[3]);
	if (size < ALIGN || (size & (size - 1)) || n <= 0)
		return 2;
	w = tlb_map(argv[1], size);
	if (!w)
		return 1;
	words = size / sizeof(*w);
	t0 = now();
	for (long i = 0; i < n; i++) {
		x = xorshift(x);
		sum += w[x & (words - 1)];
	}
	load = now() - t0;
	t0 = now();
	for (long i = 0; i < n; i++) {
		x = xorshift(x);
		w[x & (words - 1)] = x;
	}
	store = now() - t0;
	printf("{\"load_ns\": %.3f, \"store_ns\": %.3f, \"pmd_kb\": %ld, \"sum\": %llu}\n",
	       load * 1e9 / (double)n, store * 1e9 / (double)n, tlb_pmd_kb((uintptr_t)w),
	       (unsigned long long)(sum & 1));
	munmap(w, size);
	unlink(argv[1]);
	return 0;
}
