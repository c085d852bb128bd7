/* sem_pingpong: POSIX named semaphores between two processes, as a program
 * that uses /dev/shm for them sees them.
 *
 *   sem_pingpong NAME ROUNDS
 *
 * Makes the named semaphores NAME.ping and NAME.pong (glibc's sem_open with
 * O_CREAT makes /dev/shm/sem.XXXXXX, maps it and link()s it to
 * /dev/shm/sem.NAME.ping), forks a child that opens both by name itself, and
 * plays ROUNDS of ping-pong: the parent posts ping and waits for pong, the
 * child waits for ping and posts pong. Every wait gives up after 10 s.
 * Prints "ok ROUNDS" and unlinks both. Exit status 0, 1 on any failure (with
 * a line on stderr), 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sem_wait10(sem_t *s)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 10;
	while (sem_timedwait(s, &t) != 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static int child(const char *ping_name, const char *pong_name, int rounds)
{
	sem_t *ping = sem_open(ping_name, 0);
	sem_t *pong = sem_open(pong_name, 0);

	if (ping == SEM_FAILED || pong == SEM_FAILED) {
		fprintf(stderr, "child: sem_open: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		if (sem_wait10(ping) || sem_post(pong)) {
			fprintf(stderr, "child: round %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char ping_name[256], pong_name[256];
	sem_t *ping, *pong;
	int rounds, status, rc = 0;
	pid_t pid;

	if (argc != 3 || (rounds = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: sem_pingpong NAME ROUNDS\n");
		return 2;
	}
	snprintf(ping_name, sizeof(ping_name), "/%s.ping", argv[1]);
	snprintf(pong_name, sizeof(pong_name), "/%s.pong", argv[1]);
	ping = sem_open(ping_name, O_CREAT | O_EXCL, 0600, 0);
	pong = sem_open(pong_name, O_CREAT | O_EXCL, 0600, 0);
	if (ping == SEM_FAILED || pong == SEM_FAILED) {
		fprintf(stderr, "sem_open: %s\n", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(child(ping_name, pong_name, rounds));
	for (int i = 0; i < rounds && !rc; i++) {
		if (sem_post(ping) || sem_wait10(pong)) {
			fprintf(stderr, "round %d: %s\n", i, strerror(errno));
			rc = 1;
		}
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		rc = 1;
	if (sem_unlink(ping_name) || sem_unlink(pong_name)) {
		fprintf(stderr, "sem_unlink: %s\n", strerror(errno));
		rc = 1;
	}
	if (!rc)
		printf("ok %d\n", rounds);
	return rc;
}
