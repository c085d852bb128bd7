/* common.h: what the stress programs share: a seeded generator that replays
 * exactly, failure reporting, clocks, and SIGBUS-guarded memory access.
 * Header only, so that each program is one .c file. */
#ifndef STRESS_COMMON_H
#define STRESS_COMMON_H

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* splitmix64: the whole sequence follows from the seed, on every machine. */
struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static inline int rng_chance(struct rng *r, unsigned percent)
{
	return rng_below(r, 100) < percent;
}

static inline void rng_fill(struct rng *r, unsigned char *buf, size_t len)
{
	while (len >= 8) {
		uint64_t v = rng_next(r);

		memcpy(buf, &v, 8);
		buf += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = rng_next(r);

		memcpy(buf, &v, len);
	}
}

/* Pick an index by weight; weights sum to more than 0. */
static inline int rng_weighted(struct rng *r, const unsigned *weights, int n)
{
	unsigned total = 0, x;

	for (int i = 0; i < n; i++)
		total += weights[i];
	x = (unsigned)rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < weights[i])
			return i;
		x -= weights[i];
	}
	return n - 1;
}

static inline double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

static inline uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s) {
		fprintf(stderr, "bad number for %s: '%s'\n", what, s);
		exit(2);
	}
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end) {
		fprintf(stderr, "bad number for %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* FNV-1a, for record checksums. */
static inline uint64_t fnv64(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Memory access that may fault with SIGBUS (a mapping past the end of a file
 * that another process shrank, or of a file whose daemon died). Use as
 *     if (sigbus_guard()) { ...fault happened... } else { ...access...; sigbus_unguard(); }
 */
extern sigjmp_buf sigbus_jmp;
extern volatile sig_atomic_t sigbus_armed;

#define sigbus_guard() (sigbus_armed = 1, sigsetjmp(sigbus_jmp, 1) ? (sigbus_armed = 0, 1) : 0)
#define sigbus_unguard() (sigbus_armed = 0)

#define STRESS_SIGBUS_DEFINE                                                   \
	sigjmp_buf sigbus_jmp;                                                 \
	volatile sig_atomic_t sigbus_armed;                                    \
	static void sigbus_handler(int sig)                                    \
	{                                                                      \
		if (sigbus_armed)                                              \
			siglongjmp(sigbus_jmp, 1);                             \
		signal(sig, SIG_DFL);                                          \
		raise(sig);                                                    \
	}                                                                      \
	static void sigbus_install(void)                                       \
	{                                                                      \
		struct sigaction sa;                                           \
		memset(&sa, 0, sizeof(sa));                                    \
		sa.sa_handler = sigbus_handler;                                \
		sa.sa_flags = SA_NODEFER;                                      \
		sigaction(SIGBUS, &sa, NULL);                                  \
	}

#endif
