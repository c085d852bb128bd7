/* fuzz_names: libFuzzer target for the name/prefix mapping (lib/store.c).
 *
 * Input: byte 0 picks top (bit 0) and the size of the output buffer (the
 * rest); then a prefix up to the first NUL byte, then a name. Promises:
 *   - store_backing_name() returns 0, -EINVAL or -ENAMETOOLONG; on 0 its
 *     result is PREFIX+NAME (top) or NAME, one path component (no '/', not
 *     "." or ".."), at most NAME_MAX, and store_visible_name() gives NAME back;
 *   - it never writes past the buffer it is given (ASan);
 *   - for any entry a directory can hold, store_visible_name() returns NULL or
 *     a component that is not "", "." or "..", and that maps back to the
 *     same entry.
 * Prefixes are those config_validate() accepts: no '/', shorter than NAME_MAX. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *prefix, const char *name)
{
	fprintf(stderr, "fuzz_names: broken promise: %s (prefix '%s', name '%s')\n", what,
		prefix, name);
	abort();
}

static int one_component(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store st;
	char name[2 * PATH_MAX], full[NAME_MAX + 1];
	const char *sep, *prefix;
	size_t plen, nlen, len;
	int top, rc;
	char *out;

	if (size < 1 || size > PATH_MAX)
		return 0;
	top = data[0] & 1;
	len = data[0] >> 1; /* 0..127, or the full size below */
	if (len > 100)
		len = NAME_MAX + 1;
	data++;
	size--;
	memset(&st, 0, sizeof(st));
	sep = memchr(data, 0, size);
	plen = sep ? (size_t)(sep - (const char *)data) : 0;
	if (plen >= NAME_MAX || memchr(data, '/', plen))
		return 0; /* not a prefix the config would accept */
	memcpy(st.prefix, data, plen);
	st.prefix[plen] = '\0';
	prefix = st.prefix;
	nlen = sep ? size - plen - 1 : size;
	memcpy(name, sep ? (const char *)sep + 1 : (const char *)data, nlen);
	name[nlen] = '\0';

	out = malloc(len ? len : 1);
	rc = store_backing_name(&st, top, name, out, len);
	if (rc && rc != -EINVAL && rc != -ENAMETOOLONG)
		broken("store_backing_name returned an unexpected error", prefix, name);
	if (rc == 0) {
		size_t want = (top ? plen : 0) + strlen(name);
		const char *back;

		if (strlen(out) != want || want > NAME_MAX || strncmp(out, top ? prefix : "",
								      top ? plen : 0) ||
		    strcmp(out + (top ? plen : 0), name))
			broken("backing name is not PREFIX+NAME", prefix, name);
		if (!one_component(out))
			broken("backing name is not one component", prefix, name);
		back = store_visible_name(&st, top, out);
		if (!back || strcmp(back, name))
			broken("the visible name of the backing name is not the name", prefix, name);
	}
	if (rc == -EINVAL && one_component(name))
		broken("a good name refused with EINVAL", prefix, name);
	free(out);

	/* name as an entry of the backing directory */
	if (one_component(name) && strlen(name) <= NAME_MAX) {
		const char *v = store_visible_name(&st, top, name);

		if (v) {
			if (!one_component(v))
				broken("a visible name that is not one component", prefix, name);
			if (store_backing_name(&st, top, v, full, sizeof(full)) || strcmp(full, name))
				broken("a visible name that does not map back to its entry", prefix, name);
		} else if (!top || !plen ||
			   (strncmp(name, prefix, plen) == 0 && one_component(name + plen))) {
			broken("a prefixed entry that is not shown", prefix, name);
		}
	}
	return 0;
}
