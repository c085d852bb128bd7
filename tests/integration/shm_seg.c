/* shm_seg: a plain POSIX shared-memory user, to show that a segment of the
 * mount is the shm object "/PREFIXNAME" itself.
 *
 *   shm_seg PREFIX NAME create SIZE     shm_open(O_CREAT|O_EXCL), ftruncate
 *   shm_seg PREFIX NAME write OFF TEXT  map it, copy TEXT to OFF (no msync)
 *   shm_seg PREFIX NAME print OFF LEN   map it, write those bytes to stdout
 *   shm_seg PREFIX NAME size            print its size
 *   shm_seg PREFIX NAME unlink          shm_unlink
 *
 * Exit status 0 on success, 1 with a message on stderr otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char shm_name[NAME_MAX + 2];

static int fail(const char *what)
{
	fprintf(stderr, "shm_seg: %s %s: %s\n", what, shm_name, strerror(errno));
	return 1;
}

static int parse_size(const char *text, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || end == text || *end || v > SIZE_MAX) {
		fprintf(stderr, "shm_seg: not a number: %s\n", text);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

/* Open and map the whole object; *size gets its size. */
static unsigned char *map_object(int writable, size_t *size)
{
	struct stat st;
	unsigned char *addr;
	int fd = shm_open(shm_name, writable ? O_RDWR : O_RDONLY, 0);

	if (fd < 0) {
		fail("shm_open");
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		fail("fstat");
		close(fd);
		return NULL;
	}
	*size = (size_t)st.st_size;
	if (*size == 0) {
		errno = EINVAL;
		fail("empty object");
		close(fd);
		return NULL;
	}
	addr = mmap(NULL, *size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		    MAP_SHARED, fd, 0);
	close(fd);
	if (addr == MAP_FAILED) {
		fail("mmap");
		return NULL;
	}
	return addr;
}

static int do_create(const char *sizes)
{
	size_t size;
	int fd;

	if (parse_size(sizes, &size))
		return 1;
	fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return fail("shm_open");
	if (ftruncate(fd, (off_t)size) < 0)
		return fail("ftruncate");
	close(fd);
	return 0;
}

static int do_write(const char *offs, const char *text)
{
	size_t off, size, len = strlen(text);
	unsigned char *addr;

	if (parse_size(offs, &off))
		return 1;
	addr = map_object(1, &size);
	if (!addr)
		return 1;
	if (off > size || len > size - off) {
		fprintf(stderr, "shm_seg: %zu+%zu past the size %zu\n", off, len, size);
		return 1;
	}
	memcpy(addr + off, text, len);
	munmap(addr, size);
	return 0;
}

static int do_print(const char *offs, const char *lens)
{
	size_t off, len, size;
	unsigned char *addr;

	if (parse_size(offs, &off) || parse_size(lens, &len))
		return 1;
	addr = map_object(0, &size);
	if (!addr)
		return 1;
	if (off > size)
		off = size;
	if (len > size - off)
		len = size - off;
	fwrite(addr + off, 1, len, stdout);
	munmap(addr, size);
	return fflush(stdout) ? 1 : 0;
}

static int do_size(void)
{
	struct stat st;
	int fd = shm_open(shm_name, O_RDONLY, 0);

	if (fd < 0)
		return fail("shm_open");
	if (fstat(fd, &st) < 0)
		return fail("fstat");
	printf("%lld\n", (long long)st.st_size);
	close(fd);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: shm_seg PREFIX NAME create SIZE | write OFF TEXT | "
			"print OFF LEN | size | unlink\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 4)
		return usage();
	if ((size_t)snprintf(shm_name, sizeof(shm_name), "/%s%s", argv[1], argv[2]) >=
	    sizeof(shm_name)) {
		fprintf(stderr, "shm_seg: name too long\n");
		return 1;
	}
	cmd = argv[3];
	if (!strcmp(cmd, "create") && argc == 5)
		return do_create(argv[4]);
	if (!strcmp(cmd, "write") && argc == 6)
		return do_write(argv[4], argv[5]);
	if (!strcmp(cmd, "print") && argc == 6)
		return do_print(argv[4], argv[5]);
	if (!strcmp(cmd, "size") && argc == 4)
		return do_size();
	if (!strcmp(cmd, "unlink") && argc == 4)
		return shm_unlink(shm_name) < 0 ? fail("shm_unlink") : 0;
	return usage();
}
