/* bench/bench_run.c: runs one command for bench.py and reports its wall
 * time and peak RSS. A tiny forking parent, because Linux carries the
 * parent's resident size into the child's ru_maxrss across exec: measured
 * from Python, every process would seem to need Python's memory.
 *
 *   bench_run RESULT_FILE [-i STDIN_FILE] -- COMMAND [ARGS...]
 * writes "wall_ns maxrss_kib exit_code cpu_ns" to RESULT_FILE (cpu: user +
 * system time of the command); the command's
 * stdout and stderr are this process's. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *in = NULL;
	struct timespec t0, t1;
	struct rusage ru;
	int i = 2, status, code;
	pid_t pid;
	FILE *out;
	if (argc > 3 && !strcmp(argv[2], "-i")) {
		in = argv[3];
		i = 4;
	}
	if (argc < i + 2 || strcmp(argv[i], "--")) {
		fprintf(stderr, "usage: bench_run RESULT [-i STDIN] -- CMD [ARGS]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (!pid) {
		if (in) {
			int fd = open(in, O_RDONLY);
			if (fd < 0 || dup2(fd, 0) < 0) {
				perror(in);
				_exit(127);
			}
			close(fd);
		}
		execvp(argv[i + 1], argv + i + 1);
		perror(argv[i + 1]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 2;
	}
	fprintf(out, "%lld %ld %d %lld\n",
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
			(t1.tv_nsec - t0.tv_nsec),
		ru.ru_maxrss, code,
		(long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
			(long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
	return fclose(out) ? 2 : 0;
}
