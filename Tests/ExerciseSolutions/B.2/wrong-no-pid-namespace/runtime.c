/* A wrong B.2 runtime: every namespace but the PID one. The command's root, mounts, hostname
 * and network are its own, but it sees every process of the host in the /proc it mounts, is
 * not PID 1, and could signal anything the runtime can.
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

static void die(const char *what) {
    perror(what);
    _exit(125);
}

static int run(const char *rootfs, char **argv) {
    /* The mistake: no CLONE_NEWPID. */
    if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) != 0) {
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
        /* /proc for the new PID namespace, mounted while the old /proc is still in view (in a
         * user namespace the kernel allows a new procfs only then). */
        char proc[4096];
        snprintf(proc, sizeof proc, "%s/proc", rootfs);
        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) die("mount proc");
        if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) != 0) die("bind the root");
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

int main(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: %s run ROOTFS CMD [ARG...]\n", argv[0]);
        return 2;
    }
    return run(argv[2], &argv[3]);
}
