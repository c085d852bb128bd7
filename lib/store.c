#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int store_open(struct store *st, const char *path, const char *prefix,
	       enum store_backend backend, enum lifetime lifetime)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (strlen(path) >= sizeof(st->path) || strlen(prefix) >= sizeof(st->prefix))
		return -ENAMETOOLONG;
	st->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0)
		return -errno;
	if (fstat(st->dirfd, &sb)) {
		int err = errno;

		close(st->dirfd);
		return -err;
	}
	strcpy(st->path, path);
	strcpy(st->prefix, prefix);
	st->backend = backend;
	st->lifetime = lifetime;
	return 0;
}

void store_close(struct store *st)
{
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
}

int store_backing_name(const struct store *st, int top, const char *name,
		       char *out, size_t len)
{
	const char *prefix = top ? st->prefix : "";
	size_t n;

	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	n = strlen(prefix) + strlen(name);
	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	if (n >= len)
		return -ENAMETOOLONG;
	snprintf(out, len, "%s%s", prefix, name);
	return 0;
}

const char *store_visible_name(const struct store *st, int top, const char *name)
{
	size_t plen = top ? strlen(st->prefix) : 0;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NULL;
	if (plen && strncmp(name, st->prefix, plen) != 0)
		return NULL;
	name += plen;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NULL;
	return name;
}

int store_type_shown(mode_t mode)
{
	return S_ISREG(mode) || S_ISDIR(mode);
}

const char *store_backend_name(enum store_backend backend)
{
	return backend == STORE_SHM ? "shm" : "file";
}
