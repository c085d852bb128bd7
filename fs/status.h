/* status: the `shmfs status` command. */
#ifndef SHMFS_STATUS_H
#define SHMFS_STATUS_H

/* argv[0] is "status". Returns the exit status. */
int status_main(int argc, char *argv[]);

#endif
