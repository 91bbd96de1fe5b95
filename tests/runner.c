/* runner.c — runs every test program named on the command line (each a quoted
 * command line), echoes their output, and closes with `N passed, N failed`.
 * A program that dies without reporting (a crash, a sanitizer abort) counts as one
 * failure of its own.
 *
 * TEST_JOBS (default: the number of online CPUs, at most 4) programs run at once: the
 * tests are single-threaded processes that write only into their own temporary folders,
 * so on the 2-core CI machine two at a time halve the wall time. Each program's output
 * goes to a file and is echoed whole when it ends, so blocks never interleave. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct Job {
  pid_t pid;
  int index;
  char path[64];
} Job;

static int passed, failed;

/* Echoes a finished program's output and counts its results. */
static void report(const char *name, const char *path, int st) {
  printf("== %s\n", name);
  FILE *f = fopen(path, "r");
  int fails_here = 0;
  if (f) {
    char line[8192];
    while (fgets(line, sizeof line, f)) {
      fputs(line, stdout);
      if (strncmp(line, "ok - ", 5) == 0) passed++;
      else if (strncmp(line, "not ok - ", 9) == 0) failed++, fails_here++;
    }
    fclose(f);
  }
  unlink(path);
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (code != 0 && fails_here == 0) {
    printf("not ok - %s: exited with status %d without reporting a failure\n", name, code);
    failed++;
  }
  fflush(stdout);
}

static pid_t start(const char *cmd, char *path) {
  snprintf(path, 64, "/tmp/shiftc-runner-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(fd);
  return pid;
}

int main(int argc, char **argv) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int jobs = getenv("TEST_JOBS") ? atoi(getenv("TEST_JOBS")) : (int)(cpus < 1 ? 1 : cpus > 4 ? 4 : cpus);
  if (jobs < 1) jobs = 1;
  Job *run = calloc((size_t)jobs, sizeof(Job));
  if (!run) return 2;
  int next = 1, active = 0;
  fflush(stdout);
  while (next < argc || active > 0) {
    while (next < argc && active < jobs) {
      Job *j = NULL;
      for (int k = 0; k < jobs && !j; k++)
        if (run[k].pid == 0) j = &run[k];
      j->index = next;
      j->pid = start(argv[next], j->path);
      if (j->pid < 0) {
        printf("not ok - %s: cannot start\n", argv[next]);
        failed++;
        j->pid = 0;
      } else {
        active++;
      }
      next++;
    }
    if (active == 0) continue;
    int st;
    pid_t done = wait(&st);
    if (done < 0) break;
    for (int k = 0; k < jobs; k++)
      if (run[k].pid == done) {
        report(argv[run[k].index], run[k].path, st);
        run[k].pid = 0;
        active--;
      }
  }
  free(run);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
