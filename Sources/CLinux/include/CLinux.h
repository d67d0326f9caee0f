// CLinux: the few Linux calls Swift's Glibc module does not expose, and the fork-and-exec paths.
// Nothing here makes policy; contlab's Swift code decides what to call and in which order.
#ifndef CONTLAB_CLINUX_H
#define CONTLAB_CLINUX_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h>  /* fsetxattr, lgetxattr: overlayfs whiteout and opaque marks (stage 5) */

// Namespace flags from <linux/sched.h>; spelled out here because glibc hides them behind
// _GNU_SOURCE, which Swift's importer does not define. clinux.c checks them against the headers.
enum {
    CL_CLONE_NEWNS = 0x00020000,
    CL_CLONE_NEWCGROUP = 0x02000000,
    CL_CLONE_NEWUTS = 0x04000000,
    CL_CLONE_NEWIPC = 0x08000000,
    CL_CLONE_NEWUSER = 0x10000000,
    CL_CLONE_NEWPID = 0x20000000,
    CL_CLONE_NEWNET = 0x40000000,
};

// clone(2) with `flags | SIGCHLD`, fork-style (no new stack). The child runs only this C code:
// it sets PR_SET_PDEATHSIG (when pdeathsig > 0), clears the signal mask, closes its copy of
// `sync_write_fd` (so the parent's death reads as EOF), waits for one byte on `sync_fd` (when
// >= 0: the parent writes it once uid maps and cgroups are in place), then execve(path, argv,
// envp), or execveat(exec_fd, "", ..., AT_EMPTY_PATH) when exec_fd >= 0. Returns the child's
// pid, or -errno. A child whose exec fails writes a line to stderr and exits 125.
//
// With join_count > 0, a first child setns(2)es into join_fds[i] (of type join_types[i], a
// CLONE_NEW* flag) in the order given, becoming root (setresuid/setresgid 0) right after it
// joins a user namespace; then it clones the child above with CLONE_PARENT, so that child is in
// every joined namespace (the PID one included: only children enter it) and is still the
// caller's child to wait for, and exits. On a failed setns, -errno is returned and
// *failed_join is set to i.
pid_t cl_clone_exec(unsigned long flags, const char *path, int exec_fd, char *const argv[], char *const envp[],
                    int sync_fd, int sync_write_fd, int pdeathsig,
                    const int *join_fds, const int *join_types, int join_count, int *failed_join);
// The type of the namespace open at `fd` (a CLONE_NEW* flag, from ioctl NS_GET_NSTYPE), or
// -errno: -ENOTTY or -EINVAL when `fd` is not a namespace.
int cl_namespace_type(int fd);

// Settings for the container's command, applied in the child between fork and exec.
struct cl_spawn_attr {
    const char *cwd;           // chdir before exec; NULL to stay
    int set_ids;               // apply gid/groups/uid below
    uid_t uid;
    gid_t gid;
    int ngroups;               // -1: leave the supplementary groups alone
    const gid_t *groups;
    int exec_fd;               // >= 0: execveat(exec_fd, "", ..., AT_EMPTY_PATH) instead of path
    int new_session;           // setsid() in the child
    int stdin_fd;              // >= 0: dup2 onto standard input (a hook's state)
};

// fork + exec for the container's command. On failure before or at exec the child writes
// {step, errno} (two ints) to `report_fd` (opened O_CLOEXEC by the caller, so a successful exec
// closes it with nothing written) and exits 127 or 126. Steps: 1 chdir, 2 setgroups, 3 setgid,
// 4 setuid, 5 exec. Returns the pid or -errno.
pid_t cl_spawn(const char *path, char *const argv[], char *const envp[],
               const struct cl_spawn_attr *attr, int report_fd);

// pipe2(2), hidden by glibc behind _GNU_SOURCE.
int cl_pipe2(int fds[2], int flags);
// prctl(2) is variadic in C, which Swift cannot call.
enum {
    CL_PR_SET_PDEATHSIG = 1,
    CL_PR_SET_CHILD_SUBREAPER = 36,
    CL_PR_SET_KEEPCAPS = 8,
    CL_PR_GET_SECCOMP = 21,
    CL_PR_SET_NO_NEW_PRIVS = 38,
    CL_PR_GET_NO_NEW_PRIVS = 39,
};
int cl_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5);
int cl_unshare(int flags);
int cl_setns(int fd, int nstype);
int cl_pivot_root(const char *new_root, const char *put_old);
// execveat(fd, "", argv, envp, AT_EMPTY_PATH): run an already opened binary (works after
// chroot or pivot_root, when the binary's path is no longer reachable).
int cl_execveat_fd(int fd, char *const argv[], char *const envp[]);
// Bring the loopback interface of the current network namespace up (SIOCSIFFLAGS).
int cl_loopback_up(void);
// openat2(root_fd, path, {flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS}): open `path` as if
// root_fd were /, so no symlink or ".." in an untrusted tree leads out of it (Linux 5.6).
int cl_open_in_root(int root_fd, const char *path, int flags);
// memfd_create(name, 0): an anonymous file, inherited across exec (no MFD_CLOEXEC).
int cl_memfd(const char *name);
// A read-only overlayfs of the `lowerdirs` ("a:b", top first) made with the new mount API
// (fsopen, fsconfig, fsmount: Linux 5.2) and attached nowhere: the mount's descriptor,
// close-on-exec, or -errno. Nothing in any mount table names it, so no one can remount it.
int cl_detached_overlay(const char *lowerdirs);
// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING) filled with `size` bytes of `src_fd`
// (sendfile), then sealed against any write, shrink or growth: the descriptor, or -errno.
int cl_sealed_copy(const char *name, int src_fd, long long size);
// Bind the file or directory open at `src_fd` onto the one open at `dst_fd` (open_tree with
// OPEN_TREE_CLONE, then move_mount: Linux 5.2). By descriptors, so neither side is looked up
// again by a path a container could have turned into a symlink. 0 or -errno.
int cl_bind_fd_onto(int src_fd, int dst_fd);
// A read-only, empty tmpfs over the directory open at `dst_fd` (fsopen, fsmount, move_mount).
int cl_tmpfs_ro_onto(int dst_fd);
// The signal number a wait status ended with, or 0; and the exit code, or -1.
// Mark every descriptor from `first` up close-on-exec (close_range(2)), so nothing of the
// runtime's leaks into the container's command. Returns 0 or -errno.
int cl_cloexec_from(unsigned int first);
// Close every descriptor from 3 up except the `count` in `keep` (close_range(2) over the gaps):
// a container must not hold what its creator happened to have open. Returns 0 or -errno.
int cl_close_others(const int *keep, int count);
// Send `fd` over the connected unix socket `sock` (SCM_RIGHTS): how a pty master reaches the
// caller's --console-socket. Returns 0 or -errno.
int cl_send_fd(int sock, int fd);
// Receive one descriptor sent with SCM_RIGHTS on the connected unix socket `sock` (cl_send_fd's
// other end), close-on-exec. The descriptor, or -errno (-EBADMSG when the message held none).
int cl_recv_fd(int sock);
// Send `len` bytes of `buf` on the unix socket `sock` with `fd` attached (SCM_RIGHTS): a line
// and the descriptor it announces, in one message. 0 or -errno.
int cl_send_bytes_with_fd(int sock, const void *buf, size_t len, int fd);
// Read up to `len` bytes from the unix socket `sock`, keeping any descriptors that came with
// them (close-on-exec) in `fds`, at most `max`; `*count` says how many. Bytes read, or -errno.
ssize_t cl_recv_bytes_and_fds(int sock, void *buf, size_t len, int *fds, int max, int *count);
// Open a new pty pair from `ptmx` (the container's /dev/ptmx): master, slave, and the slave's
// number under /dev/pts. 0 or -errno.
int cl_open_pty(const char *ptmx, int *master, int *slave, unsigned int *index);
// Make `fd` the controlling terminal of a new session and the standard streams. 0 or -errno.
int cl_take_terminal(int fd);
// fork(2), for a process known to be single-threaded (contlab's exec helper, after it joined
// a PID namespace, which only its children enter). Swift's Glibc does not offer fork.
pid_t cl_fork(void);
// cgroup v2's device control: load a BPF_PROG_TYPE_CGROUP_DEVICE program of `count` 8-byte
// instructions (the kernel's verifier log goes to `log`), and attach it to the cgroup directory
// open at `cgroup_fd`. Both return a descriptor or 0 on success, or -errno.
int cl_bpf_load_device_program(const void *insns, int count, char *log, unsigned int log_size);
int cl_bpf_attach_device_program(int cgroup_fd, int prog_fd);
// Load a classic BPF seccomp program of `count` 8-byte sock_filter instructions into this
// process (seccomp(SECCOMP_SET_MODE_FILTER)), as libseccomp's seccomp_load does, for a program
// the runtime has changed after libseccomp built it. 0, or -errno.
int cl_seccomp_load_program(const void *instructions, unsigned short count);
// The same with SECCOMP_FILTER_FLAG_NEW_LISTENER, for a program with SECCOMP_RET_USER_NOTIF:
// the notification descriptor, or -errno.
int cl_seccomp_load_program_with_listener(const void *instructions, unsigned short count);
// Make the mount at `path` and every mount below it read-only: mount_setattr(2) with
// MOUNT_ATTR_RDONLY and AT_RECURSIVE (Linux 5.12). 0, or -errno (-ENOSYS on older kernels).
int cl_mount_setattr_readonly_recursive(const char *path);
// Open each of `paths` with O_PATH inside the mount namespace at `ns_path` (/proc/PID/ns/mnt),
// from a child forked for it: a multi-threaded process may not setns(CLONE_NEWNS). fds[i] gets
// a descriptor (close-on-exec) or -errno. So a runtime running as root reaches bind sources
// for an init in a user namespace, the way runc 1.1 does, and the mounts the init then binds
// belong to its own namespace. 0, or -errno when the child could not report.
int cl_open_paths_in_mount_ns(const char *ns_path, const char *const *paths, int count, int *fds);
int cl_wait_termsig(int status);
int cl_wait_exitcode(int status);

#endif
