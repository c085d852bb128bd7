/* mapper: the "other process" of the integration tests. It maps one file
 * MAP_SHARED and reads or writes it through the mapping only.
 *
 *   mapper [-c SIZE] [-r] PATH CMD [ARGS] [CMD [ARGS]]...   run the commands, exit
 *   mapper [-c SIZE] [-r] PATH                              read commands from stdin
 *
 * -c SIZE opens PATH with O_CREAT and sets its size first; -r maps read-only.
 * Commands (one answer line each):
 *   size                 the size of the file now (fstat)
 *   w OFF TEXT           copy TEXT to offset OFF                       -> ok
 *   r OFF LEN            the bytes at OFF, non-printable ones as '.'
 *   fill OFF LEN SEED    write the test pattern                        -> ok
 *   check OFF LEN SEED   compare with the test pattern  -> ok | bad AT got X want Y
 *   msync                msync(MS_SYNC) of the whole mapping           -> ok
 *   sum                  read every byte, print their sum
 *   q                    exit
 * In stdin mode "ready SIZE" is printed once the mapping exists. The pattern
 * byte at offset i is (SEED + 7 * i + (i >> 8)) & 0xff; harness.py knows it.
 * Exit status: 0 when every command succeeded, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct map {
	int fd;
	unsigned char *addr;
	size_t size;
	int readonly;
};

static unsigned char pattern_byte(uint64_t off, unsigned seed)
{
	return (unsigned char)((seed + 7 * off + (off >> 8)) & 0xff);
}

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 0);
	return (errno || end == text || *end) ? -1 : 0;
}

/* Whether [off, off+len) lies inside the mapping; says why not. */
static int in_range(const struct map *m, uint64_t off, uint64_t len)
{
	if (off > m->size || len > m->size - off) {
		printf("err range %llu+%llu outside size %zu\n",
		       (unsigned long long)off, (unsigned long long)len, m->size);
		return 0;
	}
	return 1;
}

static int cmd_write(struct map *m, const char *offs, const char *text)
{
	uint64_t off;
	size_t len = strlen(text);

	if (parse_u64(offs, &off) || !in_range(m, off, len))
		return -1;
	memcpy(m->addr + off, text, len);
	printf("ok\n");
	return 0;
}

static int cmd_read(struct map *m, const char *offs, const char *lens)
{
	uint64_t off, len, i;

	if (parse_u64(offs, &off) || parse_u64(lens, &len) || !in_range(m, off, len))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = m->addr[off + i];
		putchar(c >= 0x20 && c < 0x7f ? c : '.');
	}
	putchar('\n');
	return 0;
}

static int cmd_fill(struct map *m, const char *offs, const char *lens, const char *seeds)
{
	uint64_t off, len, seed, i;

	if (parse_u64(offs, &off) || parse_u64(lens, &len) || parse_u64(seeds, &seed) ||
	    !in_range(m, off, len))
		return -1;
	for (i = off; i < off + len; i++)
		m->addr[i] = pattern_byte(i, (unsigned)seed);
	printf("ok\n");
	return 0;
}

static int cmd_check(struct map *m, const char *offs, const char *lens, const char *seeds)
{
	uint64_t off, len, seed, i;

	if (parse_u64(offs, &off) || parse_u64(lens, &len) || parse_u64(seeds, &seed) ||
	    !in_range(m, off, len))
		return -1;
	for (i = off; i < off + len; i++) {
		unsigned char want = pattern_byte(i, (unsigned)seed);
		if (m->addr[i] != want) {
			printf("bad %llu got %u want %u\n", (unsigned long long)i,
			       m->addr[i], want);
			return -1;
		}
	}
	printf("ok\n");
	return 0;
}

static int cmd_msync(struct map *m)
{
	if (m->size && msync(m->addr, m->size, MS_SYNC) < 0) {
		printf("err msync: %s\n", strerror(errno));
		return -1;
	}
	printf("ok\n");
	return 0;
}

static int cmd_sum(struct map *m)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < m->size; i++)
		sum += m->addr[i];
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}

static int cmd_size(struct map *m)
{
	struct stat st;

	if (fstat(m->fd, &st) < 0) {
		printf("err fstat: %s\n", strerror(errno));
		return -1;
	}
	printf("%lld\n", (long long)st.st_size);
	return 0;
}

/* Run the command in words[0..], set *used to the words it took.
 * Return 0, -1 when it failed, 1 for "q". */
static int run_command(struct map *m, char **words, int nwords, int *used)
{
	static const struct {
		const char *name;
		int nargs;
	} table[] = {
		{ "size", 0 }, { "w", 2 }, { "r", 2 }, { "fill", 3 },
		{ "check", 3 }, { "msync", 0 }, { "sum", 0 }, { "q", 0 },
	};
	const char *name = words[0];
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(name, table[i].name))
			break;
	if (i == sizeof(table) / sizeof(table[0]) || nwords < 1 + table[i].nargs) {
		printf("err usage: %s\n", name);
		*used = nwords;
		return -1;
	}
	*used = 1 + table[i].nargs;
	if (m->readonly && (!strcmp(name, "w") || !strcmp(name, "fill"))) {
		printf("err read-only mapping\n");
		return -1;
	}
	if (!strcmp(name, "size"))
		return cmd_size(m);
	if (!strcmp(name, "w"))
		return cmd_write(m, words[1], words[2]);
	if (!strcmp(name, "r"))
		return cmd_read(m, words[1], words[2]);
	if (!strcmp(name, "fill"))
		return cmd_fill(m, words[1], words[2], words[3]);
	if (!strcmp(name, "check"))
		return cmd_check(m, words[1], words[2], words[3]);
	if (!strcmp(name, "msync"))
		return cmd_msync(m);
	if (!strcmp(name, "sum"))
		return cmd_sum(m);
	return 1;
}

/* Split line into at most max words; the last word keeps the rest of the
 * line, spaces included (so "w OFF TEXT" may write spaces). */
static int split_words(char *line, char **words, int max)
{
	int n = 0;

	while (*line && n < max) {
		while (*line == ' ')
			line++;
		if (!*line)
			break;
		words[n++] = line;
		if (n == max)
			break;
		line += strcspn(line, " ");
		if (*line)
			*line++ = '\0';
	}
	return n;
}

/* One command per line, answered at once. */
static int serve_stdin(struct map *m)
{
	char line[65536];
	int failed = 0;

	printf("ready %zu\n", m->size);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		char *words[4];
		int n, used, rc;

		line[strcspn(line, "\n")] = '\0';
		n = split_words(line, words, !strncmp(line, "w ", 2) ? 3 : 4);
		if (n == 0)
			continue;
		rc = run_command(m, words, n, &used);
		fflush(stdout);
		if (rc == 1)
			break;
		if (rc < 0)
			failed = 1;
	}
	return failed;
}

static int map_file(struct map *m, const char *path, int create, uint64_t create_size)
{
	struct stat st;
	int flags = m->readonly ? O_RDONLY : O_RDWR;

	m->fd = open(path, flags | (create ? O_CREAT : 0), 0644);
	if (m->fd < 0) {
		fprintf(stderr, "mapper: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (create && ftruncate(m->fd, (off_t)create_size) < 0) {
		fprintf(stderr, "mapper: ftruncate %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(m->fd, &st) < 0) {
		fprintf(stderr, "mapper: fstat %s: %s\n", path, strerror(errno));
		return -1;
	}
	m->size = (size_t)st.st_size;
	if (m->size == 0)
		return 0;
	m->addr = mmap(NULL, m->size, m->readonly ? PROT_READ : PROT_READ | PROT_WRITE,
		       MAP_SHARED, m->fd, 0);
	if (m->addr == MAP_FAILED) {
		fprintf(stderr, "mapper: mmap %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mapper [-c SIZE] [-r] PATH [CMD [ARGS]]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct map m = { .fd = -1 };
	uint64_t create_size = 0;
	int create = 0, opt, failed = 0, i;

	while ((opt = getopt(argc, argv, "+c:r")) != -1) {
		if (opt == 'c') {
			if (parse_u64(optarg, &create_size))
				usage();
			create = 1;
		} else if (opt == 'r') {
			m.readonly = 1;
		} else {
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (map_file(&m, argv[optind], create, create_size) < 0)
		return 1;
	if (optind + 1 == argc)
		return serve_stdin(&m);
	for (i = optind + 1; i < argc;) {
		int used, rc = run_command(&m, argv + i, argc - i, &used);

		i += used;
		if (rc == 1)
			break;
		if (rc < 0)
			failed = 1;
	}
	return failed;
}
