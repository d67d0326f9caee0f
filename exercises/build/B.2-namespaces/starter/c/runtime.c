/* Your container runtime, in C: `runtime run ROOTFS CMD [ARG...]`.
 *
 * Level B.2: start from your B.1 runtime (copy ../B.1-chroot/runtime.c over this file), then
 * give the command new PID, mount, UTS, IPC and network namespaces, the hostname "container",
 * ROOTFS as its root through pivot_root with the old root detached, and a fresh /proc.
 * Build it as the grader does: gcc -Wall -O1 -o runtime runtime.c */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(const char *rootfs, char **argv) {
    /* TODO B.2: unshare, fork, and in the child: hostname, mounts, pivot_root, /proc, exec. */
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
