#include "tmpfs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static const char *const huge_names[] = { "never", "always", "within_size", "advise" };

void tmpfs_opts_init(struct tmpfs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = 01777;
}

int tmpfs_parse_huge(const char *text, enum tmpfs_huge *out)
{
	for (size_t i = 0; i < sizeof(huge_names) / sizeof(huge_names[0]); i++) {
		if (strcmp(text, huge_names[i]) == 0) {
			*out = (enum tmpfs_huge)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *tmpfs_huge_name(enum tmpfs_huge huge)
{
	return huge_names[huge];
}

/* N or N-M (N <= M), comma-separated, and nothing after. */
static int mpol_nodelist(const char *p)
{
	for (;;) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = strtoul(p, &end, 10);
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return -EINVAL;
			b = strtoul(p + 1, &end, 10);
			if (b < a)
				return -EINVAL;
			p = end;
		}
		if (*p != ',')
			return *p ? -EINVAL : 0;
		p++;
	}
}

int tmpfs_check_mpol(const char *text)
{
	/* How each mode takes a node list (mm/mempolicy.c, mpol_parse_str). */
	enum { NONE, OPTIONAL, REQUIRED, ONE };
	static const struct {
		const char *name;
		int nodes;
	} modes[] = {
		{ "default", NONE }, { "local", NONE }, { "prefer", ONE }, { "bind", REQUIRED },
		{ "interleave", OPTIONAL }, { "weighted-interleave", OPTIONAL },
	};
	size_t n = strcspn(text, "=:");
	const char *p = text + n;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strlen(modes[i].name) != n || strncmp(text, modes[i].name, n) != 0)
			continue;
		if (*p == '=') {
			size_t f = strcspn(++p, ":");

			if (!((f == 6 && !strncmp(p, "static", 6)) ||
			      (f == 8 && !strncmp(p, "relative", 8))) || modes[i].nodes == NONE)
				return -EINVAL;
			p += f;
		}
		if (!*p)
			return modes[i].nodes == REQUIRED ? -EINVAL : 0;
		if (modes[i].nodes == NONE)
			return -EINVAL;
		p++;
		if (modes[i].nodes == ONE)
			return isdigit((unsigned char)*p) && p[strspn(p, "0123456789")] == '\0'
				       ? 0 : -EINVAL;
		return mpol_nodelist(p);
	}
	return -EINVAL;
}

int tmpfs_option(const struct tmpfs_opts *o, size_t i, const char **key, char *value,
		 size_t len)
{
	switch (i) {
	case 0:
		*key = "size";
		if (o->size_percent)
			snprintf(value, len, "%u%%", o->size_percent);
		else
			snprintf(value, len, "%llu", (unsigned long long)o->size);
		return o->size_set;
	case 1:
		*key = "nr_inodes";
		snprintf(value, len, "%llu", (unsigned long long)o->nr_inodes);
		return o->nr_inodes_set;
	case 2:
		*key = "huge";
		snprintf(value, len, "%s", huge_names[o->huge]);
		return o->huge_set;
	case 3:
		*key = "mpol";
		snprintf(value, len, "%s", o->mpol);
		return o->mpol[0] != '\0';
	case 4:
		*key = "mode";
		snprintf(value, len, "%o", (unsigned)o->mode);
		return 1;
	default:
		return 0;
	}
}

/* The kernel's message about the last refusal on a filesystem context, if
 * it left one ("e tmpfs: Bad value for 'mpol'"), into why. */
static void tmpfs_kernel_message(int fsfd, char *why, size_t len, const char *what, int err)
{
	char msg[256];
	ssize_t n = read(fsfd, msg, sizeof(msg) - 1);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\0'))
		n--;
	if (n > 2 && msg[1] == ' ') {
		msg[n] = '\0';
		snprintf(why, len, "%s: %s", what, msg + 2);
	} else {
		snprintf(why, len, "%s: %s", what, strerror(err));
	}
}

int tmpfs_mount(const struct tmpfs_opts *o, char *why, size_t len)
{
	char value[80], what[128];
	const char *key;
	int fsfd, mfd, err;

	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		err = errno;
		snprintf(why, len, "fsopen(tmpfs): %s%s", strerror(err),
			 err == EPERM ? " (a private store is a tmpfs the daemon makes: that needs "
					"CAP_SYS_ADMIN; run the daemon as root)" : "");
		return -err;
	}
	for (size_t i = 0; i < TMPFS_NOPTS; i++) {
		if (!tmpfs_option(o, i, &key, value, sizeof(value)))
			continue;
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0)) {
			err = errno;
			snprintf(what, sizeof(what), "tmpfs %s=%s", key, value);
			tmpfs_kernel_message(fsfd, why, len, what, err);
			goto err;
		}
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		err = errno;
		tmpfs_kernel_message(fsfd, why, len, "creating the tmpfs", err);
		goto err;
	}
	/* Nothing in it is a device, a setuid program or a program at all. */
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (mfd < 0) {
		err = errno;
		snprintf(why, len, "fsmount(tmpfs): %s", strerror(err));
		goto err;
	}
	close(fsfd);
	return mfd;
err:
	close(fsfd);
	return -err;
}
