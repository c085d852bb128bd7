/* usage: the texts of --help and -o help. */
#ifndef SHMFS_USAGE_H
#define SHMFS_USAGE_H

#include <stdio.h>

/* --help: the command line and the [shmfs] keys. */
void shmfs_usage(FILE *out);
/* -o help: every option -o takes. */
void shmfs_options_help(FILE *out);

#endif
