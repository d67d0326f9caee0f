/* Your container runtime, in C:
 *   runtime run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]
 *
 * Level B.5: start from your B.2 runtime (copy run() over from ../B.2-namespaces/runtime.c),
 * then build the command's root out of layers: mount an overlay of the layers (read-only,
 * base first on the command line) and UPPER (the container's own changes) on the empty folder
 * ROOTFS, in the child's mount namespace, and pivot_root into it. No layer is ever written.
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

#define MAX_LAYERS 32

static void die(const char *what) {
    perror(what);
    _exit(125);
}

/* Append `text` to the buffer `out` of `size` bytes; -1 when it does not fit (the kernel takes
 * at most a page of mount data in any case). */
static int append(char *out, size_t size, const char *text) {
    size_t used = strlen(out);
    if (used + strlen(text) + 1 > size) return -1;
    strcpy(out + used, text);
    return 0;
}

/* layers: `count` folders, in the order --layer gave them (the base first). */
static int run(char **layers, int count, const char *upper, const char *work, const char *rootfs, char **argv) {
    /* overlay wants the topmost lower layer first: the reverse of --layer's order. */
    char data[4096] = "lowerdir=";
    for (int i = count - 1; i >= 0; i--) {
        if (append(data, sizeof data, layers[i]) != 0 || (i > 0 && append(data, sizeof data, ":") != 0)) {
            fprintf(stderr, "runtime: too many layers for one mount\n");
            return 1;
        }
    }
    if (append(data, sizeof data, ",upperdir=") != 0 || append(data, sizeof data, upper) != 0 ||
        append(data, sizeof data, ",workdir=") != 0 || append(data, sizeof data, work) != 0) {
        fprintf(stderr, "runtime: the overlay's options are too long\n");
        return 1;
    }
    /* A new mount namespace for the runtime and its child: the overlay is mounted in it, so the
     * kernel takes it away when the last process of the namespace exits. */
    if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) != 0) {
        perror("unshare");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        if (sethostname("container", 9) != 0) die("sethostname");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("mount / private");
        if (mount("overlay", rootfs, "overlay", 0, data) != 0) die("mount overlay");
        char proc[4096];
        snprintf(proc, sizeof proc, "%s/proc", rootfs);
        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) die("mount proc");
        /* The overlay is a mount point already, as pivot_root wants its new root to be. */
        if (chdir(rootfs) != 0) die("chdir");
        if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
        if (umount2(".", MNT_DETACH) != 0) die("umount2 the old root");
        if (chdir("/") != 0) die("chdir /");
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int usage(const char *self) {
    fprintf(stderr, "usage: %s run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]\n",
            self);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "run") != 0) return usage(argv[0]);
    char *layers[MAX_LAYERS];
    int count = 0;
    const char *upper = NULL, *work = NULL;
    int i = 2;
    while (i + 1 < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--layer") == 0 && count < MAX_LAYERS) layers[count++] = argv[i + 1];
        else if (strcmp(argv[i], "--upper") == 0) upper = argv[i + 1];
        else if (strcmp(argv[i], "--work") == 0) work = argv[i + 1];
        else return usage(argv[0]);
        i += 2;
    }
    if (count == 0 || upper == NULL || work == NULL || argc - i < 2) return usage(argv[0]);
    return run(layers, count, upper, work, argv[i], &argv[i + 1]);
}
