/* strindex: a string -> index table with open addressing, to find what a
 * name repeats, or where it is declared, in constant time. Zeroed is empty;
 * the table keeps copies of its keys. Readers may share a table that no
 * one changes any more. */
#ifndef SHMFS_STRINDEX_H
#define SHMFS_STRINDEX_H

#include <stddef.h>

struct strindex {
	char **keys;
	size_t *vals;
	size_t cap, n;
};

/* 1 and *found when key is there; else adds key -> val and returns 0, or
 * -ENOMEM. */
int strindex_get_or_put(struct strindex *t, const char *key, size_t val, size_t *found);

/* 1 and *found when key is there, else 0. */
int strindex_get(const struct strindex *t, const char *key, size_t *found);

void strindex_free(struct strindex *t);

#endif
