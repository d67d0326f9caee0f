#define _GNU_SOURCE
#include "CLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

_Static_assert(CL_CLONE_NEWNS == CLONE_NEWNS, "CLONE_NEWNS");
_Static_assert(CL_CLONE_NEWCGROUP == CLONE_NEWCGROUP, "CLONE_NEWCGROUP");
_Static_assert(CL_CLONE_NEWUTS == CLONE_NEWUTS, "CLONE_NEWUTS");
_Static_assert(CL_CLONE_NEWIPC == CLONE_NEWIPC, "CLONE_NEWIPC");
_Static_assert(CL_CLONE_NEWUSER == CLONE_NEWUSER, "CLONE_NEWUSER");
_Static_assert(CL_CLONE_NEWPID == CLONE_NEWPID, "CLONE_NEWPID");
_Static_assert(CL_CLONE_NEWNET == CLONE_NEWNET, "CLONE_NEWNET");

static void write_str(int fd, const char *s) {
    ssize_t ignored = write(fd, s, strlen(s));
    (void)ignored;
}

// Child side of every fork here: only async-signal-safe calls until exec, because the parent
// may be a multi-threaded Swift process whose locks were copied in whatever state they were in.
static void reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

// The child that becomes the init: waits for the parent, then execs. Never returns.
static void exec_when_released(unsigned long flags, const char *path, int exec_fd, char *const argv[],
                               char *const envp[], int sync_fd, int sync_write_fd, int pdeathsig) {
    if (pdeathsig > 0) prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0);
    // The signals the host forwards stay blocked, as the host blocked them before the clone,
    // through the exec and until the init waits for them: the init is PID 1 of its namespace,
    // and the kernel drops a signal sent to PID 1 while it has no handler for it unless the
    // signal is blocked (then it waits, pending). A Ctrl-C in the first milliseconds is kept.
    // The init empties the mask before it execs the command.
    if (sync_write_fd >= 0) close(sync_write_fd);
    if (sync_fd >= 0) {
        char byte;
        ssize_t n;
        do { n = read(sync_fd, &byte, 1); } while (n < 0 && errno == EINTR);
        // EOF: the parent gave up (or died) before finishing its side; do not run.
        if (n != 1) _exit(125);
        close(sync_fd);
    }
    // In a new user namespace, become its root now that the maps are written: our host uid may
    // map to nobody there (a mapping of 0 to 100000, say), and an exec as nobody would drop
    // every capability the namespace gave us. runc's nsexec does the same.
    if (flags & CLONE_NEWUSER) {
        if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) {
            write_str(2, "contlab: cannot become root in the new user namespace: is root (0) mapped in uid_map and gid_map?\n");
            _exit(125);
        }
        // A change of credentials clears the parent-death signal: set it again.
        if (pdeathsig > 0) prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0);
    }
    if (exec_fd >= 0)
        syscall(SYS_execveat, exec_fd, "", argv, envp, AT_EMPTY_PATH);
    else
        execve(path, argv, envp);
    write_str(2, "contlab: cannot re-execute itself for the container's init: ");
    write_str(2, strerror(errno));
    write_str(2, "\n");
    _exit(125);
}

pid_t cl_clone_exec(unsigned long flags, const char *path, int exec_fd, char *const argv[], char *const envp[],
                    int sync_fd, int sync_write_fd, int pdeathsig,
                    const int *join_fds, const int *join_types, int join_count, int *failed_join) {
    if (join_count <= 0) {
        long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
        if (pid < 0) return -errno;
        if (pid == 0) exec_when_released(flags, path, exec_fd, argv, envp, sync_fd, sync_write_fd, pdeathsig);
        return (pid_t)pid;
    }
    // The first child answers {pid or -errno, index of the failed join or -1} here.
    int answer_pipe[2];
    if (pipe2(answer_pipe, O_CLOEXEC) != 0) return -errno;
    long joiner = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (joiner < 0) {
        int saved = errno;
        close(answer_pipe[0]);
        close(answer_pipe[1]);
        return -saved;
    }
    if (joiner == 0) {
        int answer[2] = {0, -1};
        for (int i = 0; i < join_count; i++) {
            int failed = setns(join_fds[i], join_types[i]) != 0;
            // Joined, we are whoever our host uid maps to there (nobody, if unmapped); as its
            // root we keep the rights to create and enter the namespaces that follow.
            if (!failed && join_types[i] == CLONE_NEWUSER)
                failed = setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0;
            if (failed) {
                answer[0] = -errno;
                answer[1] = i;
                ssize_t ignored = write(answer_pipe[1], answer, sizeof answer);
                (void)ignored;
                _exit(1);
            }
        }
        long pid = syscall(SYS_clone, flags | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) exec_when_released(flags, path, exec_fd, argv, envp, sync_fd, sync_write_fd, pdeathsig);
        answer[0] = pid < 0 ? -errno : (int)pid;
        ssize_t ignored = write(answer_pipe[1], answer, sizeof answer);
        (void)ignored;
        _exit(0);
    }
    close(answer_pipe[1]);
    int answer[2] = {-EPIPE, -1};
    ssize_t n;
    do { n = read(answer_pipe[0], answer, sizeof answer); } while (n < 0 && errno == EINTR);
    close(answer_pipe[0]);
    int status;
    while (waitpid((pid_t)joiner, &status, 0) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof answer) return -EPIPE;
    if (answer[0] < 0 && failed_join) *failed_join = answer[1];
    return answer[0];
}

static void report(int fd, int step) {
    int msg[2] = {step, errno};
    if (fd >= 0) {
        ssize_t ignored = write(fd, msg, sizeof msg);
        (void)ignored;
    }
}

pid_t cl_spawn(const char *path, char *const argv[], char *const envp[],
               const struct cl_spawn_attr *attr, int report_fd) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid > 0) return pid;

    reset_signals();
    if (attr->stdin_fd >= 0) {
        dup2(attr->stdin_fd, 0);
        if (attr->stdin_fd != 0) close(attr->stdin_fd);
    }
    // Nothing of the parent's beyond stdio reaches the program (the report pipe is
    // close-on-exec already, and execveat works on a close-on-exec descriptor).
    syscall(SYS_close_range, 3U, ~0U, 1U << 2);
    if (attr->new_session) setsid();
    if (attr->cwd && chdir(attr->cwd) != 0) { report(report_fd, 1); _exit(126); }
    if (attr->set_ids) {
        if (attr->ngroups >= 0 && setgroups((size_t)attr->ngroups, attr->groups) != 0) {
            report(report_fd, 2); _exit(126);
        }
        if (setgid(attr->gid) != 0) { report(report_fd, 3); _exit(126); }
        if (setuid(attr->uid) != 0) { report(report_fd, 4); _exit(126); }
    }
    if (attr->exec_fd >= 0)
        syscall(SYS_execveat, attr->exec_fd, "", argv, envp, AT_EMPTY_PATH);
    else
        execve(path, argv, envp);
    int saved = errno;
    report(report_fd, 5);
    _exit(saved == ENOENT ? 127 : 126);
}

int cl_pipe2(int fds[2], int flags) { return pipe2(fds, flags) == 0 ? 0 : -errno; }
int cl_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
    return prctl(option, arg2, arg3, arg4, arg5);
}
int cl_unshare(int flags) { return unshare(flags) == 0 ? 0 : -errno; }
int cl_setns(int fd, int nstype) { return setns(fd, nstype) == 0 ? 0 : -errno; }

int cl_namespace_type(int fd) {
    int type = ioctl(fd, NS_GET_NSTYPE);
    return type < 0 ? -errno : type;
}

int cl_pivot_root(const char *new_root, const char *put_old) {
    return syscall(SYS_pivot_root, new_root, put_old) == 0 ? 0 : -errno;
}

int cl_execveat_fd(int fd, char *const argv[], char *const envp[]) {
    syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    return -errno;
}

int cl_open_in_root(int root_fd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

int cl_memfd(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 0);
}

int cl_detached_overlay(const char *lowerdirs) {
    int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (fs < 0) return -errno;
    int mnt = -1;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lowerdirs, 0) == 0 &&
        syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
        mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                           MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    int saved = errno;
    close(fs);
    return mnt >= 0 ? mnt : -saved;
}

int cl_bind_fd_onto(int src_fd, int dst_fd) {
    int tree = (int)syscall(SYS_open_tree, src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) return -errno;
    int rc = (int)syscall(SYS_move_mount, tree, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    int saved = errno;
    close(tree);
    return rc == 0 ? 0 : -saved;
}

int cl_tmpfs_ro_onto(int dst_fd) {
    int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) return -errno;
    int mnt = -1;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
        mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    int saved = errno;
    close(fs);
    if (mnt < 0) return -saved;
    int rc = (int)syscall(SYS_move_mount, mnt, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    saved = errno;
    close(mnt);
    return rc == 0 ? 0 : -saved;
}

int cl_sealed_copy(const char *name, int src_fd, long long size) {
    int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    off_t offset = 0;
    while (offset < size) {
        ssize_t n = sendfile(fd, src_fd, &offset, (size_t)(size - offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO;
            close(fd);
            return -saved;
        }
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}

int cl_loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = 0;
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) rc = -errno;
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) rc = -errno;
    }
    close(s);
    return rc;
}

int cl_cloexec_from(unsigned int first) {
    // CLOSE_RANGE_CLOEXEC is (1U << 2) in <linux/close_range.h>.
    return syscall(SYS_close_range, first, ~0U, 1U << 2) == 0 ? 0 : -errno;
}

// Room for one descriptor in a message's control data, aligned as a cmsghdr must be.
union one_fd_control {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
};

// Make `msg` carry the one buffer `iov` with `fd` attached as SCM_RIGHTS, the control data in
// `control` (which must outlive the sendmsg): what every sender of a descriptor here builds.
static void fill_fd_message(struct msghdr *msg, struct iovec *iov, union one_fd_control *control, int fd) {
    memset(control, 0, sizeof *control);
    memset(msg, 0, sizeof *msg);
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
    msg->msg_control = control->buf;
    msg->msg_controllen = sizeof control->buf;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
}

int cl_send_fd(int sock, int fd) {
    // One byte of data: a stream socket carries no control message without some.
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union one_fd_control control;
    struct msghdr msg;
    fill_fd_message(&msg, &iov, &control, fd);
    return sendmsg(sock, &msg, 0) < 0 ? -errno : 0;
}

int cl_recv_fd(int sock) {
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union one_fd_control control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t got;
    do {
        got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return -errno;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) return -EBADMSG;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

int cl_send_bytes_with_fd(int sock, const void *buf, size_t len, int fd) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union one_fd_control control;
    struct msghdr msg;
    fill_fd_message(&msg, &iov, &control, fd);
    // MSG_NOSIGNAL: an agent that has gone away is an error to report, not a SIGPIPE.
    ssize_t sent;
    do {
        sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return -errno;
    return (size_t)sent == len ? 0 : -EMSGSIZE;
}

ssize_t cl_recv_bytes_and_fds(int sock, void *buf, size_t len, int *fds, int max, int *count) {
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    /* Room for a few descriptors: a peer that sends more loses the rest (MSG_CTRUNC closes them). */
    union {
        char buf[CMSG_SPACE(8 * sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    *count = 0;
    ssize_t got;
    do {
        got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return -errno;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (*count < max) fds[(*count)++] = fd; else close(fd);
        }
    }
    return got;
}

int cl_open_pty(const char *ptmx, int *master, int *slave, unsigned int *index) {
    int m = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -errno;
    int unlock = 0;
    if (ioctl(m, TIOCSPTLCK, &unlock) != 0) { int e = errno; close(m); return -e; }
    if (ioctl(m, TIOCGPTN, index) != 0) { int e = errno; close(m); return -e; }
    // TIOCGPTPEER opens the slave through the master, so no path under /dev/pts is needed.
    int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (s < 0) { int e = errno; close(m); return -e; }
    *master = m;
    *slave = s;
    return 0;
}

int cl_take_terminal(int fd) {
    if (setsid() < 0) return -errno;
    if (ioctl(fd, TIOCSCTTY, 0) != 0) return -errno;
    for (int i = 0; i < 3; i++) if (dup2(fd, i) < 0) return -errno;
    return 0;
}

static int compare_ints(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int cl_close_others(const int *keep, int count) {
    int sorted[64];
    if (count > 64) return -EINVAL;
    memcpy(sorted, keep, sizeof(int) * (size_t)count);
    qsort(sorted, (size_t)count, sizeof(int), compare_ints);
    unsigned int next = 3;
    for (int i = 0; i < count; i++) {
        if (sorted[i] < (int)next) continue;
        if ((unsigned int)sorted[i] > next && syscall(SYS_close_range, next, (unsigned int)sorted[i] - 1, 0) != 0) return -errno;
        next = (unsigned int)sorted[i] + 1;
    }
    return syscall(SYS_close_range, next, ~0U, 0) == 0 ? 0 : -errno;
}

pid_t cl_fork(void) { return fork(); }

int cl_wait_termsig(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }
int cl_wait_exitcode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

#include <linux/bpf.h>
#include <sys/syscall.h>

int cl_bpf_load_device_program(const void *insns, int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insn_cnt = (unsigned int)count;
    attr.insns = (unsigned long)insns;
    attr.license = (unsigned long)"Apache";
    if (log && log_size > 0) {
        log[0] = 0;
        attr.log_level = 1;
        attr.log_size = log_size;
        attr.log_buf = (unsigned long)log;
    }
    int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    return fd < 0 ? -errno : fd;
}

int cl_bpf_attach_device_program(int cgroup_fd, int prog_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (unsigned int)cgroup_fd;
    attr.attach_bpf_fd = (unsigned int)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    // With ALLOW_MULTI, a program an ancestor has (systemd puts one on its slices) still runs:
    // a device both allow is allowed.
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) < 0 ? -errno : 0;
}

int cl_seccomp_load_program(const void *instructions, unsigned short count) {
    struct sock_fprog program = { .len = count, .filter = (struct sock_filter *)instructions };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return -errno;
    return 0;
}

int cl_seccomp_load_program_with_listener(const void *instructions, unsigned short count) {
    struct sock_fprog program = { .len = count, .filter = (struct sock_filter *)instructions };
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
    return fd < 0 ? -errno : (int)fd;
}

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

int cl_mount_setattr_readonly_recursive(const char *path) {
    /* struct mount_attr from <linux/mount.h>, spelled out: glibc 2.36's <sys/mount.h> and the
       kernel's header conflict when both are included. */
    struct { unsigned long long attr_set, attr_clr, propagation, userns_fd; } attr = { 0x00000001 /* MOUNT_ATTR_RDONLY */, 0, 0, 0 };
    if (syscall(SYS_mount_setattr, AT_FDCWD, path, 0x8000 /* AT_RECURSIVE */, &attr, sizeof attr) != 0) return -errno;
    return 0;
}

int cl_open_paths_in_mount_ns(const char *ns_path, const char *const *paths, int count, int *fds) {
    int sv[2];
    /* SEQPACKET: one message an answer, each descriptor with its own. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -errno;
    pid_t child = fork();
    if (child < 0) {
        int saved = errno;
        close(sv[0]);
        close(sv[1]);
        return -saved;
    }
    if (child == 0) {
        /* The forked copy of a multi-threaded process: only async-signal-safe calls from here. A
           single thread may enter another mount namespace, which its parent may not. */
        close(sv[0]);
        int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
        int status = (ns < 0 || setns(ns, CLONE_NEWNS) != 0) ? -errno : 0;
        for (int i = 0; i < count; i++) {
            int fd = status == 0 ? open(paths[i], O_PATH | O_CLOEXEC) : -1;
            int result = status != 0 ? status : fd < 0 ? -errno : 0;
            if (fd >= 0) {
                if (cl_send_bytes_with_fd(sv[1], &result, sizeof result, fd) != 0) _exit(1);
                close(fd);
            } else if (write(sv[1], &result, sizeof result) != (ssize_t)sizeof result) {
                _exit(1);
            }
        }
        _exit(0);
    }
    close(sv[1]);
    int failure = 0;
    for (int i = 0; i < count; i++) {
        int result = 0, fd = -1;
        struct iovec iov = {.iov_base = &result, .iov_len = sizeof result};
        union one_fd_control control;
        memset(&control, 0, sizeof control);
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf};
        ssize_t got;
        do {
            got = recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC);
        } while (got < 0 && errno == EINTR);
        if (got != (ssize_t)sizeof result) {
            failure = got < 0 ? -errno : -EPIPE;
            for (int j = i; j < count; j++) fds[j] = failure;
            break;
        }
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
        }
        fds[i] = result == 0 && fd >= 0 ? fd : (result != 0 ? result : -EBADMSG);
    }
    close(sv[0]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    return failure;
}
