/* A wrong B.3 runtime: the cgroup is made in both controllers and joined in time, the memory
 * limit written, but --pids is read and never written to pids.max: the command may fork as
 * much as the grading container above it allows.
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

static void die(const char *what) {
    perror(what);
    _exit(125);
}

/* The run's cgroup: one directory on v2, one per controller's hierarchy on v1. */
static char memory_dir[4096], pids_dir[4096];
static int cgroup_v2;

static int write_file(const char *dir, const char *file, const char *value) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    /* cgroupfs reports a refused value when the buffer reaches the kernel: check the close. */
    int bad = fputs(value, f) < 0;
    bad |= fclose(f) != 0;
    if (bad) perror(path);
    return bad ? -1 : 0;
}

static int make_cgroup(const char *memory, const char *pids) {
    /* A hybrid host has a cgroup2 at /sys/fs/cgroup/unified too, without these controllers:
     * only cgroup.controllers at /sys/fs/cgroup itself means everything is v2. */
    cgroup_v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    pid_t me = getpid();
    if (cgroup_v2) {
        snprintf(memory_dir, sizeof memory_dir, "/sys/fs/cgroup/runtime-%d", (int)me);
        strcpy(pids_dir, memory_dir);
        /* A v2 cgroup has a controller's files only when its parent hands it down. */
        write_file("/sys/fs/cgroup", "cgroup.subtree_control", "+memory +pids");
    } else {
        snprintf(memory_dir, sizeof memory_dir, "/sys/fs/cgroup/memory/runtime-%d", (int)me);
        snprintf(pids_dir, sizeof pids_dir, "/sys/fs/cgroup/pids/runtime-%d", (int)me);
    }
    if (mkdir(memory_dir, 0755) != 0) {
        perror(memory_dir);
        return -1;
    }
    if (!cgroup_v2 && mkdir(pids_dir, 0755) != 0) {
        perror(pids_dir);
        rmdir(memory_dir);
        return -1;
    }
    (void)pids;
    if (memory && write_file(memory_dir, cgroup_v2 ? "memory.max" : "memory.limit_in_bytes", memory) != 0) {
        rmdir(memory_dir);
        if (!cgroup_v2) rmdir(pids_dir);
        return -1;
    }
    return 0;
}

/* rmdir refuses a cgroup with processes in it, and the PID namespace's last ones may still be
 * on their way out just after PID 1 was reaped. */
static void remove_dir(const char *dir) {
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int attempt = 0; attempt < 100; attempt++) {
        if (rmdir(dir) == 0 || errno == ENOENT) return;
        if (errno != EBUSY) break;
        nanosleep(&pause, NULL);
    }
    perror(dir);
}

static void remove_cgroup(void) {
    remove_dir(memory_dir);
    if (!cgroup_v2) remove_dir(pids_dir);
}

static int run(const char *rootfs, char **argv, const char *memory, const char *pids) {
    if (make_cgroup(memory, pids) != 0) return 1;
    /* The mount namespace is the child's alone (below): pivot_root moves the root of every
     * process in the namespace that had the old one, and the runtime must keep the host's to
     * find its cgroup again afterwards. */
    if (unshare(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) != 0) {
        perror("unshare");
        remove_cgroup();
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        remove_cgroup();
        return 1;
    }
    if (pid == 0) {
        /* Join first, while /sys/fs/cgroup is still in view: everything from here on, the
         * command's first page included, is charged to the limited cgroup. */
        if (write_file(memory_dir, "cgroup.procs", "0") != 0) _exit(125);
        if (!cgroup_v2 && write_file(pids_dir, "cgroup.procs", "0") != 0) _exit(125);
        if (unshare(CLONE_NEWNS) != 0) die("unshare(CLONE_NEWNS)");
        if (sethostname("container", 9) != 0) die("sethostname");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("mount / private");
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
    pid_t waited = waitpid(pid, &status, 0);
    remove_cgroup();
    if (waited < 0) {
        perror("waitpid");
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
