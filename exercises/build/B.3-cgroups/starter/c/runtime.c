/* Your container runtime, in C: `runtime run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]`.
 *
 * Level B.3: start from your B.2 runtime (copy run() over from ../B.2-namespaces/runtime.c),
 * then give the command a cgroup of its own: made, limited and joined before the command runs,
 * removed after it. Keep the mount namespace the child's alone (unshare(CLONE_NEWNS) after the
 * fork): pivot_root moves the root of every process in the namespace, and the runtime needs
 * the host's /sys/fs/cgroup afterwards to remove its cgroup.
 * Build it as the grader does: gcc -Wall -O1 -o runtime runtime.c */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Write `value` to DIR/FILE, as `echo VALUE > DIR/FILE` does; 0 on success. The kernel checks
 * a cgroup value when it arrives, so an error may show only at fclose. */
static int write_file(const char *dir, const char *file, const char *value) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    int bad = fputs(value, f) < 0;
    bad |= fclose(f) != 0;
    if (bad) perror(path);
    return bad ? -1 : 0;
}

/* memory and pids: the limits given, or NULL where an option was left out. */
static int run(const char *rootfs, char **argv, const char *memory, const char *pids) {
    /* TODO B.3: make the cgroup and write the limits; unshare and fork; in the child, join the
     * cgroup, then B.2's set-up and exec; in the parent, wait, then rmdir the cgroup. */
    (void)rootfs;
    (void)argv;
    (void)memory;
    (void)pids;
    (void)write_file;
    fprintf(stderr, "runtime: run is not written yet\n");
    return 1;
}

static int usage(const char *self) {
    fprintf(stderr, "usage: %s run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]\n", self);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "run") != 0) return usage(argv[0]);
    const char *memory = NULL, *pids = NULL;
    int i = 2;
    while (i + 1 < argc && (strcmp(argv[i], "--memory") == 0 || strcmp(argv[i], "--pids") == 0)) {
        if (strcmp(argv[i], "--memory") == 0) memory = argv[i + 1];
        else pids = argv[i + 1];
        i += 2;
    }
    if (argc - i < 2) return usage(argv[0]);
    return run(argv[i], &argv[i + 1], memory, pids);
}
