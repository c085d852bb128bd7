/* tlb.c: "bench tlb FILE SIZE ACCESSES": random 8-byte loads and stores over
 * one segment of SIZE bytes (a power of two), the access pattern whose cost
 * is the TLB's: each access likely lands on a page whose translation is not
 * cached, and a 2 MiB page covers 512 times what a 4 KiB page does.
 *
 * FILE is made SIZE bytes long, mapped MAP_SHARED at a 2 MiB-aligned address
 * and every page is touched before the clock starts (../aligned_map.h).
 * Prints one JSON line: nanoseconds per load and per store, and how much of
 * the mapping is PMD-mapped (huge). The file is removed at the end. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../aligned_map.h"
#include "bench.h"

static uint64_t xorshift(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* The file mapped at an aligned address, every page touched; NULL on error. */
static uint64_t *tlb_map(const char *path, size_t size)
{
	unsigned char *p;
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(path);
		return NULL;
	}
	p = aligned_map_touch(fd, size);
	if (!p)
		perror("mmap");
	close(fd);
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
	if (size < ALIGNED_MAP_ALIGN || (size & (size - 1)) || n <= 0)
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
	       load * 1e9 / (double)n, store * 1e9 / (double)n, aligned_map_pmd_kb(w),
	       (unsigned long long)(sum & 1));
	munmap(w, size);
	unlink(argv[1]);
	return 0;
}
