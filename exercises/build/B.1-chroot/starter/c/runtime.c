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
    /* TODO B.1: make rootfs the root directory of the command, then run argv[0] with argv. */
    (void)rootfs;
    (void)argv;
    fprintf(stderr, "runtime: run is not written yet\n");
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: %s run ROOTFS CMD [ARG...]\n", argv[0]);
        return 2;
    }
    return run(argv[2], &argv[3]);
}
