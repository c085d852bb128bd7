/* holder: a user of one segment whose open fd and mapping are let go of
 * separately, to show when a process-lifetime segment is released.
 *
 *   holder [-c SIZE] [-n] PATH     then one command per line on stdin
 *
 * -c SIZE opens PATH with O_CREAT and sets its size first; -n leaves it
 * unmapped (an open fd only). Commands (one answer line each):
 *   w OFF TEXT    copy TEXT into the mapping at OFF               -> ok
 *   r OFF LEN     the mapped bytes at OFF                         -> the text
 *   pw OFF TEXT   pwrite TEXT at OFF through the fd               -> ok
 *   msync         msync(MS_SYNC) of the mapping                   -> ok
 *   close         close the fd, keep the mapping                  -> ok
 *   unmap         munmap, keep the fd                             -> ok
 *   q             exit (an end of input does the same)
 * "ready SIZE" is printed once the file is open (and mapped). A command that
 * fails answers "err WHAT: REASON". Exit status 0, 1 when open/mmap failed,
 * 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct hold {
	int fd;               /* -1 once closed */
	unsigned char *addr;  /* NULL when not mapped */
	size_t size;
};

static int answer_err(const char *what)
{
	printf("err %s: %s\n", what, strerror(errno));
	return -1;
}

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 0);
	return (errno || end == text || *end) ? -1 : 0;
}

static int mapped_range(const struct hold *h, const char *offs, uint64_t len, uint64_t *off)
{
	if (!h->addr) {
		printf("err not mapped\n");
		return -1;
	}
	if (parse_u64(offs, off) || *off > h->size || len > h->size - *off) {
		printf("err range %s+%llu outside size %zu\n", offs, (unsigned long long)len,
		       h->size);
		return -1;
	}
	return 0;
}

static int cmd_w(struct hold *h, const char *offs, const char *text)
{
	uint64_t off;

	if (mapped_range(h, offs, strlen(text), &off))
		return -1;
	memcpy(h->addr + off, text, strlen(text));
	printf("ok\n");
	return 0;
}

static int cmd_r(struct hold *h, const char *offs, const char *lens)
{
	uint64_t off, len, i;

	if (parse_u64(lens, &len) || mapped_range(h, offs, len, &off))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = h->addr[off + i];
		putchar(c >= 0x20 && c < 0x7f ? c : '.');
	}
	putchar('\n');
	return 0;
}

static int cmd_pw(struct hold *h, const char *offs, const char *text)
{
	uint64_t off;
	size_t len = strlen(text);

	if (parse_u64(offs, &off)) {
		printf("err bad offset %s\n", offs);
		return -1;
	}
	if (pwrite(h->fd, text, len, (off_t)off) != (ssize_t)len)
		return answer_err("pwrite");
	printf("ok\n");
	return 0;
}

static int cmd_msync(struct hold *h)
{
	if (h->addr && msync(h->addr, h->size, MS_SYNC) < 0)
		return answer_err("msync");
	printf("ok\n");
	return 0;
}

static int cmd_close(struct hold *h)
{
	if (h->fd >= 0 && close(h->fd) < 0)
		return answer_err("close");
	h->fd = -1;
	printf("ok\n");
	return 0;
}

static int cmd_unmap(struct hold *h)
{
	if (h->addr && munmap(h->addr, h->size) < 0)
		return answer_err("munmap");
	h->addr = NULL;
	printf("ok\n");
	return 0;
}

/* Run one command line. Return 1 for "q", else 0. */
static int run_line(struct hold *h, char *line)
{
	char *cmd = strtok(line, " ");
	char *arg1 = strtok(NULL, " ");
	char *rest = strtok(NULL, "");

	if (!cmd)
		return 0;
	if (!strcmp(cmd, "q"))
		return 1;
	if (!strcmp(cmd, "w") && arg1 && rest)
		cmd_w(h, arg1, rest);
	else if (!strcmp(cmd, "r") && arg1 && rest)
		cmd_r(h, arg1, rest);
	else if (!strcmp(cmd, "pw") && arg1 && rest)
		cmd_pw(h, arg1, rest);
	else if (!strcmp(cmd, "msync"))
		cmd_msync(h);
	else if (!strcmp(cmd, "close"))
		cmd_close(h);
	else if (!strcmp(cmd, "unmap"))
		cmd_unmap(h);
	else
		printf("err usage: %s\n", cmd);
	return 0;
}

static int hold_open(struct hold *h, const char *path, int create, uint64_t size, int map)
{
	struct stat st;

	h->fd = open(path, O_RDWR | (create ? O_CREAT : 0), 0644);
	if (h->fd < 0) {
		fprintf(stderr, "holder: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (create && ftruncate(h->fd, (off_t)size) < 0) {
		fprintf(stderr, "holder: ftruncate %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(h->fd, &st) < 0) {
		fprintf(stderr, "holder: fstat %s: %s\n", path, strerror(errno));
		return -1;
	}
	h->size = (size_t)st.st_size;
	if (!map || h->size == 0)
		return 0;
	h->addr = mmap(NULL, h->size, PROT_READ | PROT_WRITE, MAP_SHARED, h->fd, 0);
	if (h->addr == MAP_FAILED) {
		h->addr = NULL;
		fprintf(stderr, "holder: mmap %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hold h = { .fd = -1 };
	uint64_t size = 0;
	int create = 0, map = 1, opt;
	char line[65536];

	while ((opt = getopt(argc, argv, "c:n")) != -1) {
		if (opt == 'c' && !parse_u64(optarg, &size)) {
			create = 1;
		} else if (opt == 'n') {
			map = 0;
		} else {
			fprintf(stderr, "usage: holder [-c SIZE] [-n] PATH\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: holder [-c SIZE] [-n] PATH\n");
		return 2;
	}
	if (hold_open(&h, argv[optind], create, size, map) < 0)
		return 1;
	printf("ready %zu\n", h.size);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (run_line(&h, line))
			break;
		fflush(stdout);
	}
	return 0;
}
