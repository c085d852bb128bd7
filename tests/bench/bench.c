/* bench.c: shmfs against the tmpfs that backs it, side by side.
 *
 *   bench --shmfs MOUNTDIR --tmpfs SHM_DIR [--daemon-pid PID] [--quick]
 *         [--reps N] [--only ID,...] [--attr-timeout SECONDS]
 *
 * Each operation runs on the mount and on its shm_dir in turn, the order
 * swapped every repetition (A B, B A, ...) so that a machine that speeds up
 * or slows down during the run favours neither side. One JSON object per
 * measured figure goes to stdout, progress to stderr. scripts/bench mounts,
 * runs this once per data-path mode and draws the results. */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *bench_path(const struct target *t, const char *fmt, ...)
{
	static char buf[4096];
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "%s/%s%s", t->dir, t->prefix, name);
	return buf;
}

int bench_fail(const char *what, const char *path)
{
	fprintf(stderr, "bench: %s %s: %s\n", what, path, strerror(errno));
	return -1;
}

void run_note(struct run *r, const char *key, double value)
{
	if (r->nnotes < BENCH_MAX_NOTES) {
		r->note_key[r->nnotes] = key;
		r->note[r->nnotes++] = value;
	}
}

/* A number field of /proc/PID/status (kB for sizes), or -1. */
static long proc_status_number(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

long proc_rss_kib(pid_t pid)
{
	return proc_status_number(pid, "VmRSS");
}

long proc_threads(pid_t pid)
{
	return proc_status_number(pid, "Threads");
}

long proc_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* User plus system CPU time of pid (all its threads), seconds, or NAN. */
static double proc_cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return NAN;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the ")" that ends the command name. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return NAN;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- the harness ---- */

#define MAX_REPS 31

/* What the repetitions of one operation on one side gave. */
struct side {
	double value[BENCH_MAX_METRICS][MAX_REPS];
	double note[BENCH_MAX_NOTES][MAX_REPS];
	const char *note_key[BENCH_MAX_NOTES];
	int nnotes;
	double cpu[MAX_REPS];
	int failed;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_REPS];
	int k = 0;

	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			s[k++] = v[i];
	if (k == 0)
		return NAN;
	qsort(s, (size_t)k, sizeof(*s), cmp_double);
	return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

static void run_begin(struct run *r, const struct target *t, const struct params *p)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->p = p;
	for (int m = 0; m < BENCH_MAX_METRICS; m++)
		r->value[m] = NAN;
}

/* Keep what run r of repetition rep gave; a run that failed gives NAN. */
static void run_end(const struct run *r, int failed, struct side *s, int rep)
{
	if (failed)
		s->failed = 1;
	for (int m = 0; m < BENCH_MAX_METRICS; m++)
		s->value[m][rep] = failed ? NAN : r->value[m];
	for (int i = 0; i < r->nnotes; i++) {
		s->note_key[i] = r->note_key[i];
		s->note[i][rep] = r->note[i];
	}
	if (r->nnotes > s->nnotes)
		s->nnotes = r->nnotes;
}

/* A paired run leaves the values of a side that failed NAN. */
static int run_failed(const struct run *r)
{
	return isnan(r->value[0]);
}

/* One repetition: both sides, first then second. The daemon's CPU time is
 * taken around the whole of it: only the shmfs side makes it work. */
static void run_rep(const struct bench *b, const struct target *first, struct side *s1,
		    const struct target *second, struct side *s2, const struct params *p, int rep)
{
	const struct target *t[2] = { first, second };
	struct side *s[2] = { s1, s2 };
	pid_t daemon = first->daemon ? first->daemon : second->daemon;
	double cpu0 = daemon ? proc_cpu_seconds(daemon) : NAN;
	struct run r[2];

	run_begin(&r[0], first, p);
	run_begin(&r[1], second, p);
	if (b->run_pair) {
		b->run_pair(&r[0], &r[1]);
		run_end(&r[0], run_failed(&r[0]), s[0], rep);
		run_end(&r[1], run_failed(&r[1]), s[1], rep);
	} else {
		for (int i = 0; i < 2; i++)
			run_end(&r[i], b->run(&r[i]) != 0, s[i], rep);
	}
	for (int i = 0; i < 2; i++)
		s[i]->cpu[rep] = t[i]->daemon ? proc_cpu_seconds(daemon) - cpu0 : NAN;
}

static void print_number(double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", stdout);
	else
		printf("%.6g", v);
}

static void print_runs(const char *key, const double *v, int n)
{
	printf(", \"%s\": [", key);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", stdout);
		print_number(v[i]);
	}
	putchar(']');
}

/* One JSON line for metric m of b. Figures of a side that failed any run
 * are null: a median of what happened to work would hide the failure. */
static void report(const struct bench *b, int m, const struct side *sh, const struct side *tm,
		   int reps)
{
	const struct metric *mt = &b->metrics[m];
	double x = sh->failed ? NAN : median(sh->value[m], reps);
	double y = tm->failed ? NAN : median(tm->value[m], reps);

	printf("{\"name\": \"%s\", \"unit\": \"%s\", \"higher_is_better\": %s, \"shmfs\": ",
	       mt->name, mt->unit, mt->higher_is_better ? "true" : "false");
	print_number(x);
	fputs(", \"tmpfs\": ", stdout);
	print_number(y);
	fputs(", \"ratio\": ", stdout);
	print_number(x / y);
	printf(", \"reps\": %d", reps);
	print_runs("shmfs_runs", sh->value[m], reps);
	print_runs("tmpfs_runs", tm->value[m], reps);
	fputs(", \"daemon_cpu_s\": ", stdout);
	print_number(median(sh->cpu, reps));
	for (int i = 0; i < sh->nnotes; i++) {
		printf(", \"%s\": ", sh->note_key[i]);
		print_number(median(sh->note[i], reps));
	}
	fputs("}\n", stdout);
	fflush(stdout);
	fprintf(stderr, "bench:   %-52s shmfs %10.4g  tmpfs %10.4g  %-13s ratio %.3f\n",
		mt->name, x, y, mt->unit, x / y);
}

static void measure(const struct bench *b, const struct target *shmfs,
		    const struct target *tmpfs, const struct params *p)
{
	static struct side sh, tm;
	double start = now();
	int nmetrics = 0;

	int reps = b->slow ? p->reps_slow : p->reps;

	memset(&sh, 0, sizeof(sh));
	memset(&tm, 0, sizeof(tm));
	for (int rep = 0; rep < reps; rep++) {
		if (rep % 2 == 0)
			run_rep(b, shmfs, &sh, tmpfs, &tm, p, rep);
		else
			run_rep(b, tmpfs, &tm, shmfs, &sh, p, rep);
	}
	while (nmetrics < BENCH_MAX_METRICS && b->metrics[nmetrics].name)
		nmetrics++;
	for (int m = 0; m < nmetrics; m++)
		report(b, m, &sh, &tm, reps);
	fprintf(stderr, "bench: %s: %.1f s\n", b->id, now() - start);
}

static int selected(const char *only, const char *id)
{
	size_t len = strlen(id);

	if (!only)
		return 1;
	for (const char *s = only; (s = strstr(s, id)); s += len)
		if ((s == only || s[-1] == ',') && (s[len] == ',' || s[len] == '\0'))
			return 1;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench --shmfs MOUNTDIR --tmpfs SHM_DIR [--daemon-pid PID] [--quick]\n"
		     "             [--reps N] [--only ID,...] [--attr-timeout SECONDS] [--list]\n"
		     "       bench tlb FILE SIZE ACCESSES   (random 8-byte loads and stores)\n");
}

static void list(void)
{
	for (size_t i = 0; i < bench_data_count; i++)
		printf("%s\n", bench_data[i].id);
	for (size_t i = 0; i < bench_meta_count; i++)
		printf("%s\n", bench_meta[i].id);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shmfs", required_argument, NULL, 's' },
		{ "tmpfs", required_argument, NULL, 't' },
		{ "daemon-pid", required_argument, NULL, 'p' },
		{ "quick", no_argument, NULL, 'q' },
		{ "reps", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "attr-timeout", required_argument, NULL, 'a' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct target shmfs = { .label = "shmfs", .prefix = "bench." };
	struct target tmpfs = { .label = "tmpfs", .prefix = "tmpfs.bench." };
	struct params p = {
		.seq_size = 128 << 20, .rand_size = 64 << 20, .rand_reads = 100000,
		.rand_writes = 20000, .spin_trips = 200000, .futex_trips = 10000,
		.pong_seconds = 1.0, .opens = 10000,
		.meta_count = 10000, .scale_count = 10000, .scale_size = 64 << 10,
		.attr_timeout = 1.0, .reps = 9, .reps_slow = 5,
	};
	const char *only = NULL;
	int quick = 0, reps = 0, c;

	if (argc > 1 && strcmp(argv[1], "tlb") == 0)
		return bench_tlb_main(argc - 1, argv + 1);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': shmfs.dir = optarg; break;
		case 't': tmpfs.dir = optarg; break;
		case 'p': shmfs.daemon = (pid_t)atoi(optarg); break;
		case 'q': quick = 1; break;
		case 'r': reps = atoi(optarg); break;
		case 'o': only = optarg; break;
		case 'a': p.attr_timeout = atof(optarg); break;
		case 'l': list(); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!shmfs.dir || !tmpfs.dir || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (quick) {
		p.seq_size = 32 << 20;
		p.rand_size = 16 << 20;
		p.rand_reads = 20000;
		p.rand_writes = 4000;
		p.spin_trips = 50000;
		p.futex_trips = 3000;
		p.pong_seconds = 0.3;
		p.opens = 2000;
		p.meta_count = 2000;
		p.scale_count = 2000;
		p.reps = 5;
		p.reps_slow = 3;
	}
	if (reps > 0)
		p.reps = p.reps_slow = reps < MAX_REPS ? reps : MAX_REPS;

	printf("{\"params\": {\"seq_bytes\": %zu, \"rand_bytes\": %zu, \"rand_reads\": %ld, "
	       "\"rand_writes\": %ld, \"spin_trips\": %ld, \"futex_trips\": %ld, "
	       "\"pong_seconds\": %g, "
	       "\"opens\": %ld, \"meta_count\": %ld, \"scale_count\": %ld, "
	       "\"scale_bytes\": %zu, \"reps\": %d, \"reps_slow\": %d}}\n",
	       p.seq_size, p.rand_size, p.rand_reads, p.rand_writes, p.spin_trips,
	       p.futex_trips, p.pong_seconds, p.opens, p.meta_count, p.scale_count, p.scale_size, p.reps,
	       p.reps_slow);
	fflush(stdout);
	for (size_t i = 0; i < bench_data_count; i++)
		if (selected(only, bench_data[i].id))
			measure(&bench_data[i], &shmfs, &tmpfs, &p);
	for (size_t i = 0; i < bench_meta_count; i++)
		if (selected(only, bench_meta[i].id))
			measure(&bench_meta[i], &shmfs, &tmpfs, &p);
	return 0;
}
