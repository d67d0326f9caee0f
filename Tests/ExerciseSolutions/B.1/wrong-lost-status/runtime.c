/* A wrong B.1 runtime: it forks, chroots and execs the command in the child, and waits for it,
 * but then exits 0 whatever the command's status was. A caller (a shell's `&&`, a CI job, an
 * engine) can no longer tell a failed command from one that worked.
 * Build it as the grader does: gcc -Wall -O1 -o runtime runtime.c */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(const char *rootfs, char **argv) {
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        if (chroot(rootfs) != 0 || chdir("/") != 0) {
            perror(rootfs);
            _exit(1);
        }
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) perror("waitpid");
    /* The mistake: the status read by waitpid goes nowhere. */
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: %s run ROOTFS CMD [ARG...]\n", argv[0]);
        return 2;
    }
    return run(argv[2], &argv[3]);
}
