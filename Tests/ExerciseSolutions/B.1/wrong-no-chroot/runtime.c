/* Your container runtime, in C: `runtime run ROOTFS CMD [ARG...]`.
 *
 * Level B.1: run CMD with ROOTFS as its root directory, and exit with CMD's exit status.
 * Build it as the grader does: gcc -Wall -O1 -o runtime runtime.c
 * Try it as root: sudo ./runtime run /path/to/a/rootfs /bin/sh
 * (contlab rootfs build busybox prints the path of a busybox root filesystem.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(const char *rootfs, char **argv) {
    /* Only the working directory changes: "/" is still the host's. */
    if (chdir(rootfs) != 0) {
        perror(rootfs);
        return 1;
    }
    execvp(argv[0], argv);
    perror(argv[0]);
    return 127;
}

int main(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: %s run ROOTFS CMD [ARG...]\n", argv[0]);
        return 2;
    }
    return run(argv[2], &argv[3]);
}
