/* map_writer: keeps one mapping of a segment and writes through it while the
 * daemon is killed and restarted under it (the crash tests, passthrough mode).
 *
 *   map_writer PATH STOPFILE
 *
 * Opens PATH, sizes it to 64 KiB, maps it, and until STOPFILE exists keeps
 * writing a counter into 16 slots one page apart through the mapping and
 * through pwrite, reading each back. A passthrough mapping maps the backing
 * object itself, so none of this needs the daemon. Prints
 * "map_writer: iterations=N last=V" and exits 0; any wrong value or error: 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common.h"

STRESS_SIGBUS_DEFINE

#define SIZE (64 * 1024)
#define SLOTS 16

int main(int argc, char **argv)
{
	volatile uint64_t *map;
	uint64_t v = 0, got;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: map_writer PATH STOPFILE\n");
		return 2;
	}
	sigbus_install();
	fd = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, SIZE)) {
		fprintf(stderr, "map_writer: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "map_writer: mmap: %s\n", strerror(errno));
		return 1;
	}
	printf("map_writer: ready\n");
	fflush(stdout);
	while (access(argv[2], F_OK) != 0) {
		v++;
		if (sigbus_guard()) {
			fprintf(stderr, "map_writer: SIGBUS on the mapping at iteration %llu\n",
				(unsigned long long)v);
			return 1;
		}
		for (int i = 0; i < SLOTS; i++)
			map[i * 4096 / 8] = v;
		for (int i = 0; i < SLOTS; i++) {
			if (map[i * 4096 / 8] != v) {
				fprintf(stderr, "map_writer: slot %d is %llu, wrote %llu\n", i,
					(unsigned long long)map[i * 4096 / 8], (unsigned long long)v);
				return 1;
			}
		}
		sigbus_unguard();
		/* The last 8 bytes, by write and read on the open file. */
		if (pwrite(fd, &v, 8, SIZE - 8) != 8 || pread(fd, &got, 8, SIZE - 8) != 8 || got != v) {
			fprintf(stderr, "map_writer: pwrite/pread at iteration %llu: %s\n",
				(unsigned long long)v, strerror(errno));
			return 1;
		}
		if (v % 64 == 0)
			usleep(1000);
	}
	printf("map_writer: iterations=%llu last=%llu\n", (unsigned long long)v, (unsigned long long)v);
	return 0;
}
