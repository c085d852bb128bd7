#include "strindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t strindex_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of key, or of the free place for it. */
static size_t strindex_slot(const struct strindex *t, const char *key)
{
	size_t i = strindex_hash(key) & (t->cap - 1);

	while (t->keys[i] && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* Twice the room, keys moved over (kept at most half full). */
static int strindex_grow(struct strindex *t)
{
	struct strindex bigger = { .cap = t->cap ? 2 * t->cap : 64 };

	bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
	bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
	if (!bigger.keys || !bigger.vals) {
		free(bigger.keys);
		free(bigger.vals);
		return -ENOMEM;
	}
	for (size_t j = 0; j < t->cap; j++) {
		if (t->keys[j]) {
			size_t k = strindex_slot(&bigger, t->keys[j]);

			bigger.keys[k] = t->keys[j];
			bigger.vals[k] = t->vals[j];
		}
	}
	bigger.n = t->n;
	free(t->keys);
	free(t->vals);
	*t = bigger;
	return 0;
}

int strindex_get_or_put(struct strindex *t, const char *key, size_t val, size_t *found)
{
	size_t i;

	if (2 * (t->n + 1) > t->cap && strindex_grow(t))
		return -ENOMEM;
	i = strindex_slot(t, key);
	if (t->keys[i]) {
		*found = t->vals[i];
		return 1;
	}
	t->keys[i] = strdup(key);
	if (!t->keys[i])
		return -ENOMEM;
	t->vals[i] = val;
	t->n++;
	return 0;
}

int strindex_get(const struct strindex *t, const char *key, size_t *found)
{
	size_t i;

	if (!t->cap)
		return 0;
	i = strindex_slot(t, key);
	if (!t->keys[i])
		return 0;
	*found = t->vals[i];
	return 1;
}

void strindex_free(struct strindex *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}
