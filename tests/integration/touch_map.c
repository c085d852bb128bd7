/* touch_map: map a file MAP_SHARED at a 2 MiB-aligned address and store to
 * every page of it, as a program using a segment would (../aligned_map.h).
 *
 *   touch_map PATH SIZE      (SIZE in bytes; the file is made that long first)
 *
 * Prints "pmd KB" (FilePmdMapped plus ShmemPmdMapped of this mapping, from
 * /proc/self/smaps) and exits 0. A store past the store's size is a SIGBUS,
 * which kills it (the test sees the signal). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../aligned_map.h"

int main(int argc, char **argv)
{
	unsigned char *p;
	size_t size;
	int fd;

	if (argc != 3)
		return 2;
	size = strtoull(argv[2], NULL, 0);
	fd = open(argv[1], O_CREAT | O_RDWR, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(argv[1]);
		return 1;
	}
	p = aligned_map_touch(fd, size);
	if (!p) {
		perror("mmap");
		return 1;
	}
	printf("pmd %ld\n", aligned_map_pmd_kb(p));
	return 0;
}
