/* status_print.c: the table and the JSON of `shmfs status`.
 *
 * Names come from users (any byte but '/' and NUL), and root reads the
 * table on a terminal: every name is written escaped, so that none can
 * start a new row or reach the terminal as a control sequence. The JSON is
 * valid UTF-8 whatever the names hold. The man page (STATUS) documents both
 * encodings. */
#include "status.h"

#include <stdlib.h>
#include <string.h>

/* Length (1-4) of the well-formed UTF-8 sequence at s and its code point
 * in *cp; 0 when s does not start one (a stray or truncated byte, an
 * overlong form, a surrogate, or past U+10FFFF). */
static int utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c, min;
	int n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters a terminal acts on or that reorder the line: C0 and C1
 * controls, DEL, the bidirectional marks, embeddings, overrides and
 * isolates, and the line and paragraph separators. */
static int is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e ||
	       c == 0x200f || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

size_t status_put_escaped(FILE *out, const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t width = 0;

	while (*s) {
		uint32_t c;
		int n = utf8_next(s, &c);

		if (n == 0)
			width += (size_t)fprintf(out, "\\x%02x", *s);
		else if (c == '\\')
			width += (size_t)fprintf(out, "\\\\");
		else if (c == '\n')
			width += (size_t)fprintf(out, "\\n");
		else if (c == '\t')
			width += (size_t)fprintf(out, "\\t");
		else if (c < 0x80 && is_control(c))
			width += (size_t)fprintf(out, "\\x%02x", (unsigned)c);
		else if (is_control(c))
			width += (size_t)fprintf(out, "\\u%04x", (unsigned)c);
		else
			width += fwrite(s, 1, (size_t)n, out) ? 1 : 0;
		s += n ? n : 1;
	}
	return width;
}

/* A JSON string: controls as \u00XX, each byte that is not part of
 * well-formed UTF-8 as U+FFFD. */
static void json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	while (*s) {
		uint32_t c;
		int n = utf8_next(s, &c);

		if (n == 0)
			fputs("\\ufffd", out);
		else if (c == '"' || c == '\\')
			fprintf(out, "\\%c", (char)c);
		else if (is_control(c))
			fprintf(out, "\\u%04x", (unsigned)c);
		else
			fwrite(s, 1, (size_t)n, out);
		s += n ? n : 1;
	}
	fputc('"', out);
}

/* "64M", "1.5G": sizes for people. */
static void human(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)n);
	else
		snprintf(buf, len, v < 10 && v != (int)v ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* The value of key=N in the root's user.shmfs.limits, 0 if absent. */
static uint64_t limit_of(const struct status *s, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	p = strstr(s->limits, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

/* key=VALUE of the root's user.shmfs.daemon into buf ("" if absent);
 * prefix= is last and runs to the end. */
static const char *daemon_of(const struct status *s, const char *key, char *buf, size_t len)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	p = strncmp(s->daemon, pat, strlen(pat)) == 0 ? s->daemon : NULL;
	if (!p) {
		snprintf(pat, sizeof(pat), " %s=", key);
		p = strstr(s->daemon, pat);
		p = p ? p + 1 : NULL;
	}
	buf[0] = '\0';
	if (p) {
		p += strlen(key) + 1;
		snprintf(buf, len, "%.*s", strcmp(key, "prefix") == 0 ? (int)strlen(p)
				    : (int)strcspn(p, " "), p);
	}
	return buf;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void status_totals(const struct status *s, uint64_t *size, uint64_t *resident)
{
	*size = *resident = 0;
	for (size_t i = 0; i < s->nsegs; i++) {
		*size += s->segs[i].size;
		*resident += s->segs[i].resident;
	}
}

static void json_segment(const struct seg *g, FILE *out)
{
	fprintf(out, "{\"name\": ");
	json_string(out, g->name);
	fprintf(out, ", \"size\": %llu, \"resident\": %llu, \"backend\": ",
		(unsigned long long)g->size, (unsigned long long)g->resident);
	json_string(out, g->backend);
	fprintf(out, ", \"backing\": ");
	json_string(out, g->backing);
	fprintf(out, ", \"lifetime\": ");
	json_string(out, g->lifetime);
	fprintf(out, ", \"io\": ");
	json_string(out, g->io);
	fprintf(out, ", \"opens\": %u, \"pids\": [", g->opens);
	for (size_t j = 0; j < g->npids; j++)
		fprintf(out, "%s%d", j ? ", " : "", (int)g->pids[j]);
	fprintf(out, "]}");
}

/* , "daemon": {...}: who serves the mount (after the segments). */
static void json_daemon(const struct status *s, FILE *out)
{
	char pid[32], io[16], transport[16], errs[32], prefix[NAME_MAX + 1];

	daemon_of(s, "pid", pid, sizeof(pid));
	daemon_of(s, "writeback_errors", errs, sizeof(errs));
	fprintf(out, ", \"daemon\": {\"pid\": %s, \"source\": ", pid[0] ? pid : "null");
	json_string(out, s->mnt->source);
	fprintf(out, ", \"store\": ");
	json_string(out, s->store);
	fprintf(out, ", \"prefix\": ");
	json_string(out, daemon_of(s, "prefix", prefix, sizeof(prefix)));
	fprintf(out, ", \"io\": ");
	json_string(out, daemon_of(s, "io", io, sizeof(io)));
	fprintf(out, ", \"transport\": ");
	json_string(out, daemon_of(s, "transport", transport, sizeof(transport)));
	fprintf(out, ", \"writeback_errors\": %s}", errs[0] ? errs : "0");
}

/* , "others": {"symlink": N, ...} */
static void json_others(const struct status *s, FILE *out)
{
	static const char *const names[] = STATUS_TYPES;

	fprintf(out, ", \"others\": {");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fprintf(out, "%s\"%s\": %zu", i ? ", " : "", names[i], s->others[i]);
	fputc('}', out);
}

void status_print_json(const struct status *s, FILE *out, int first)
{
	uint64_t size, resident;

	status_totals(s, &size, &resident);
	fprintf(out, "%s{\"mountpoint\": ", first ? "" : ", ");
	json_string(out, s->mnt->path);
	json_daemon(s, out);
	fprintf(out, ", \"segments\": [");
	for (size_t i = 0; i < s->nsegs; i++) {
		fputs(i ? ", " : "", out);
		json_segment(&s->segs[i], out);
	}
	fputc(']', out);
	json_others(s, out);
	fprintf(out, ", \"total\": {\"segments\": %zu, \"size\": %llu, \"resident\": %llu}, "
		     "\"limits\": {\"max_segments\": %llu, \"max_total_size\": %llu, "
		     "\"max_segment_size\": %llu}}",
		s->nsegs, (unsigned long long)size, (unsigned long long)resident,
		(unsigned long long)limit_of(s, "max_segments"),
		(unsigned long long)limit_of(s, "max_total_size"),
		(unsigned long long)limit_of(s, "max_segment_size"));
}

/* NAME padded to 24 characters, counting an escaped name as it is shown. */
static void table_name(FILE *out, const char *name)
{
	for (size_t width = status_put_escaped(out, name); width < 24; width++)
		fputc(' ', out);
}

static void table_row(const struct seg *g, FILE *out)
{
	char size[16], res[16];

	human(g->size, size, sizeof(size));
	human(g->resident, res, sizeof(res));
	table_name(out, g->name);
	fprintf(out, " %7s %7s %-7s %-8s %-11s %5u  ", size, res, g->backend, g->lifetime,
		g->io, g->opens);
	for (size_t j = 0; j < g->npids; j++)
		fprintf(out, "%s%d", j ? "," : "", (int)g->pids[j]);
	fputs(g->npids ? "\n" : "-\n", out);
}

/* "MNT: daemon PID, source SRC, store DIR, prefix 'P', data path IO,
 * transport T" */
static void table_header(const struct status *s, FILE *out)
{
	char pid[32], io[16], transport[16], prefix[NAME_MAX + 1];

	status_put_escaped(out, s->mnt->path);
	fprintf(out, ": daemon %s, source ", daemon_of(s, "pid", pid, sizeof(pid))[0] ? pid : "?");
	status_put_escaped(out, s->mnt->source);
	fputs(", store ", out);
	status_put_escaped(out, s->store[0] ? s->store : "?");
	if (!s->daemon[0]) {
		fputs(" (its daemon does not say more)\n", out);
		return;
	}
	fputs(", prefix '", out);
	status_put_escaped(out, daemon_of(s, "prefix", prefix, sizeof(prefix)));
	fprintf(out, "', data path %s", daemon_of(s, "io", io, sizeof(io))[0] ? io : "?");
	if (daemon_of(s, "transport", transport, sizeof(transport))[0])
		fprintf(out, ", transport %s", transport);
	fputc('\n', out);
}

/* "other objects: 2 symlinks, 1 FIFO": what the mount holds besides
 * segments and directories (never opened by status). */
static void table_others(const struct status *s, FILE *out)
{
	static const char *const names[] = STATUS_TYPES;
	const char *sep = "other objects: ";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!s->others[i])
			continue;
		fprintf(out, "%s%zu %s%s", sep, s->others[i], names[i],
			s->others[i] == 1 ? "" : "s");
		sep = ", ";
	}
	if (strcmp(sep, ", ") == 0)
		fputc('\n', out);
}

void status_print_table(const struct status *s, FILE *out)
{
	char size[16], res[16], lim[16];
	uint64_t total, resident, max;

	table_header(s, out);
	fprintf(out, "%-24s %7s %7s %-7s %-8s %-11s %5s  %s\n", "NAME", "SIZE", "RES",
		"BACKEND", "LIFETIME", "IO", "OPENS", "PIDS");
	for (size_t i = 0; i < s->nsegs; i++)
		table_row(&s->segs[i], out);
	table_others(s, out);
	status_totals(s, &total, &resident);
	human(total, size, sizeof(size));
	human(resident, res, sizeof(res));
	fprintf(out, "total: %zu %s", s->nsegs, plural(s->nsegs, "segment", "segments"));
	if ((max = limit_of(s, "max_segments")))
		fprintf(out, " of %llu", (unsigned long long)max);
	fprintf(out, ", %s", size);
	if ((max = limit_of(s, "max_total_size"))) {
		human(max, lim, sizeof(lim));
		fprintf(out, " of %s", lim);
	}
	fprintf(out, ", %s resident", res);
	daemon_of(s, "writeback_errors", lim, sizeof(lim));
	if (lim[0] && strcmp(lim, "0") != 0)
		fprintf(out, "; %s %s lost (see the daemon's log)", lim,
			plural(strtoull(lim, NULL, 10), "writeback", "writebacks"));
	fputc('\n', out);
}
