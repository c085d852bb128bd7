/* config_parts: what the files of the config loader share, and nothing
 * outside them uses. lib/config_read.c records the entries (pass one),
 * lib/config.c checks [shmfs] and drives pass two, lib/config_graft.c the
 * keys and checks of [segment NAME] and [dir NAME], lib/config_store.c the
 * store keys of both. */
#ifndef SHMFS_CONFIG_PARTS_H
#define SHMFS_CONFIG_PARTS_H

#include "config.h"
#include "strindex.h"

/* Arrays grow by doubling: config_grows(n) says whether one of length n is
 * full, config_grown(n) its next length. */
int config_grows(size_t n);
size_t config_grown(size_t n);

/* The last entry of [shmfs] key, or NULL. */
const struct config_entry *config_last_entry(const struct config *cfg, const char *key);

/* A size value of key; "0" means no limit. 0, or -1 with why. */
int config_size_value(const char *key, const char *value, uint64_t *out, char *why, size_t len);

/* config_graft.c. Whether section is one of ours: [shmfs], [segment NAME],
 * [dir NAME]. */
int config_known_section(const char *section);
/* The graft a section header declares: checks the name, adds the graft;
 * names maps graft names to their index in cfg->grafts. */
void config_add_graft(struct config *cfg, const struct config_entry *e, struct strindex *names);
/* The graft of a key's section, if its header was accepted. */
struct config_graft *config_graft_of(struct config *cfg, const struct config_entry *e,
				     const struct strindex *names);
/* One key of a [segment] or [dir] section: 0, or -1 with why. */
int config_set_graft_key(struct config_graft *g, const struct config_entry *e, char *why,
			 size_t len);
/* Defaults and cross-key rules of a graft, once all its keys are known: 0,
 * or -1 with why and *line; paths maps the paths of grafts checked so far
 * to their index. */
int config_finish_graft(const struct config *cfg, struct config_graft *g, char *why, size_t len,
			int *line, struct strindex *paths);

/* config_store.c: the store kind and the options of private stores, in
 * [shmfs] and [dir NAME]. */
config_setter config_store_setter(const char *key);
/* A store kind given by key name (store =, backend =), which takes those
 * of key: 0 and *out, or -1 with why (ending in note). */
int config_store_kind(const char *name, enum store_key key, const char *value, const char *note,
		      enum store_backend *out, char *why, size_t len);
/* One store key of a [dir] (0, or -1 with why); *known says whether key is
 * one (else nothing is done). */
int config_store_graft_key(struct config_graft *g, const struct config_entry *e, int *known,
			   char *why, size_t len);
/* Cross-key rules of the root store (after every key is read): a private
 * root has lifetime mount and no prefix; tmpfs options need store = private. */
void config_store_check(struct config *cfg);
/* Those of a [dir] or [segment] once its keys are known, before the other
 * checks of config_finish_graft: 0, or -1 with why and *line. */
int config_store_finish_graft(const struct config *cfg, struct config_graft *g, char *why,
			      size_t len, int *line);
/* store = private and the tmpfs options set (mode too if with_mode). */
void config_store_print(const struct tmpfs_opts *o, int with_mode, FILE *out);

#endif
