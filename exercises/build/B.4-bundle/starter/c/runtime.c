/* Your container runtime, in C: an OCI bundle with runc's lifecycle.
 *
 *   runtime [--root DIR] create [--bundle DIR] ID
 *   runtime [--root DIR] start ID | state ID | kill ID [SIGNAL] | delete ID
 *
 * Level B.4: bring over what your B.3 run() does in the child (namespaces, mounts, pivot_root),
 * now driven by BUNDLE/config.json, and split it into runc's steps. `create` sets everything
 * up and leaves the container process waiting on ROOT/ID/exec.fifo; `start` lets it exec the
 * program; `state` prints the runtime-spec's state JSON; `kill` signals the process; `delete`
 * removes what `create` made, once the process has stopped. The JSON reader, the name tables
 * and main() are given; the TODOs are yours (task.en.md says what each is worth).
 * Build it as the grader does: gcc -Wall -O1 -o runtime runtime.c */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- A small JSON reader: enough for config.json and the state file. ---- */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    double number;         /* JSON_NUMBER, and JSON_BOOL as 0 or 1 */
    char *string;          /* JSON_STRING */
    int count;             /* JSON_ARRAY and JSON_OBJECT: how many items */
    char **keys;           /* JSON_OBJECT: the items' keys */
    struct json **items;   /* JSON_ARRAY and JSON_OBJECT */
};

static void json_skip_space(const char **p) {
    while (isspace((unsigned char)**p)) (*p)++;
}

static struct json *json_value(const char **p);

/* A string at *p (after its opening quote): \uXXXX above ASCII becomes '?', which config.json
 * files for this level never need. */
static char *json_string_body(const char **p) {
    size_t size = 16, used = 0;
    char *out = malloc(size);
    while (**p && **p != '"') {
        char c = *(*p)++;
        if (c == '\\') {
            c = *(*p)++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned code = 0;
                for (int i = 0; i < 4 && isxdigit((unsigned char)**p); i++, (*p)++)
                    code = code * 16 + (isdigit((unsigned char)**p) ? **p - '0' : (tolower(**p) - 'a' + 10));
                c = code < 128 ? (char)code : '?';
                break;
            }
            case '\0': free(out); return NULL;
            default: break; /* \" \\ \/ stand for themselves */
            }
        }
        if (used + 2 > size) out = realloc(out, size *= 2);
        out[used++] = c;
    }
    if (**p != '"') {
        free(out);
        return NULL;
    }
    (*p)++;
    out[used] = '\0';
    return out;
}

static struct json *json_new(enum json_type type) {
    struct json *v = calloc(1, sizeof *v);
    v->type = type;
    return v;
}

static void json_append(struct json *v, char *key, struct json *item) {
    v->items = realloc(v->items, (v->count + 1) * sizeof *v->items);
    v->keys = realloc(v->keys, (v->count + 1) * sizeof *v->keys);
    v->items[v->count] = item;
    v->keys[v->count] = key;
    v->count++;
}

static struct json *json_value(const char **p) {
    json_skip_space(p);
    char c = **p;
    if (c == '{' || c == '[') {
        struct json *v = json_new(c == '{' ? JSON_OBJECT : JSON_ARRAY);
        char close = c == '{' ? '}' : ']';
        (*p)++;
        json_skip_space(p);
        if (**p == close) {
            (*p)++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            if (v->type == JSON_OBJECT) {
                json_skip_space(p);
                if (**p != '"') return NULL;
                (*p)++;
                if ((key = json_string_body(p)) == NULL) return NULL;
                json_skip_space(p);
                if (**p != ':') return NULL;
                (*p)++;
            }
            struct json *item = json_value(p);
            if (item == NULL) return NULL;
            json_append(v, key, item);
            json_skip_space(p);
            if (**p == ',') {
                (*p)++;
                continue;
            }
            if (**p != close) return NULL;
            (*p)++;
            return v;
        }
    }
    if (c == '"') {
        (*p)++;
        struct json *v = json_new(JSON_STRING);
        return (v->string = json_string_body(p)) ? v : NULL;
    }
    if (strncmp(*p, "true", 4) == 0 || strncmp(*p, "false", 5) == 0) {
        struct json *v = json_new(JSON_BOOL);
        v->number = **p == 't';
        *p += **p == 't' ? 4 : 5;
        return v;
    }
    if (strncmp(*p, "null", 4) == 0) {
        *p += 4;
        return json_new(JSON_NULL);
    }
    char *end;
    double number = strtod(*p, &end);
    if (end == *p) return NULL;
    *p = end;
    struct json *v = json_new(JSON_NUMBER);
    v->number = number;
    return v;
}

/* The whole text as one JSON value, or NULL if it is not one. */
static struct json *json_parse(const char *text) {
    struct json *v = json_value(&text);
    json_skip_space(&text);
    return v != NULL && *text == '\0' ? v : NULL;
}

/* An object's item by key; NULL if v is not an object or has no such key. */
static struct json *json_get(const struct json *v, const char *key) {
    if (v == NULL || v->type != JSON_OBJECT) return NULL;
    for (int i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], key) == 0) return v->items[i];
    return NULL;
}

/* A string's text; NULL if v is not a string. */
static const char *json_str(const struct json *v) {
    return v != NULL && v->type == JSON_STRING ? v->string : NULL;
}

/* An array's length; 0 if v is not an array. */
static int json_len(const struct json *v) {
    return v != NULL && v->type == JSON_ARRAY ? v->count : 0;
}

/* ---- Files and names ---- */

static const char *state_root = "/run/runtime-lab";

static int fail(const char *what) {
    fprintf(stderr, "runtime: %s\n", what);
    return 1;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return NULL;
    size_t size = 4096, used = 0;
    char *text = malloc(size);
    size_t n;
    while ((n = fread(text + used, 1, size - used - 1, f)) > 0) {
        used += n;
        if (used + 1 == size) text = realloc(text, size *= 2);
    }
    fclose(f);
    text[used] = '\0';
    return text;
}

static void path_in(char *out, size_t size, const char *id, const char *file) {
    snprintf(out, size, "%s/%s%s%s", state_root, id, file ? "/" : "", file ? file : "");
}

/* mkdir -p, for the state root and for mount points the rootfs lacks. */
static int make_dirs(const char *path, mode_t mode) {
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *slash = copy + 1; *slash; slash++) {
        if (*slash != '/') continue;
        *slash = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST) return -1;
        *slash = '/';
    }
    return mkdir(copy, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- Names the kernel and the spec use ---- */

struct flag_name {
    const char *name;
    unsigned long flag;
};

static const struct flag_name namespace_flags[] = {
    {"pid", CLONE_NEWPID}, {"mount", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
    {"network", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP}, {NULL, 0},
};

/* Mount options that are flags; every other option goes to the file system as data. */
static const struct flag_name mount_flags[] = {
    {"ro", MS_RDONLY}, {"rw", 0}, {"nosuid", MS_NOSUID}, {"nodev", MS_NODEV}, {"noexec", MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS}, {"noatime", MS_NOATIME}, {"nodiratime", MS_NODIRATIME},
    {"relatime", MS_RELATIME}, {"strictatime", MS_STRICTATIME}, {"bind", MS_BIND},
    {"rbind", MS_BIND | MS_REC}, {"suid", 0}, {"dev", 0}, {"exec", 0}, {"atime", 0}, {NULL, 0},
};

static const struct flag_name rlimit_names[] = {
    {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {NULL, 0},
};

/* The capabilities by number, as the kernel's linux/capability.h numbers them. */
static const char *capability_names[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define CAPABILITY_COUNT (int)(sizeof capability_names / sizeof *capability_names)

static int lookup(const struct flag_name *table, const char *name, unsigned long *flag) {
    for (; name && table->name; table++) {
        if (strcmp(table->name, name) == 0) {
            *flag = table->flag;
            return 0;
        }
    }
    return -1;
}

static const struct flag_name signal_names[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}, {NULL, 0},
};

/* ---- Yours ---- */

/* What `state` prints for ID (see task.en.md): one JSON object with ociVersion, id, status,
 * pid and bundle. Keep what create knew in ROOT/ID (path_in builds the paths) and read the
 * status from the kernel each time: /proc/PID/stat gone or its state letter Z means stopped. */
static int state(const char *id) {
    /* TODO B.4 */
    (void)id;
    return fail("state is not written yet");
}

/* Read BUNDLE/config.json (read_file, json_parse, json_get...), claim ROOT/ID with mkdir, make
 * ROOT/ID/exec.fifo, unshare CLONE_NEWPID if listed, fork. The child: the other namespaces,
 * hostname, mounts and pivot_root (B.3's run(), from config.json now), cwd, env, then it opens
 * the FIFO (O_RDWR, before pivot_root) and reads one byte from it before execvp. The parent
 * waits until the child is set up (a pipe it writes to helps), saves the state and exits 0. */
static int create(const char *bundle, const char *id) {
    /* TODO B.4. Last, a point each: process.rlimits (rlimit_names) and
     * process.capabilities (capability_names, prctl PR_CAPBSET_DROP, capset). */
    (void)bundle;
    (void)id;
    (void)make_dirs;
    (void)read_file;
    (void)path_in;
    (void)lookup;
    (void)json_parse;
    (void)json_get;
    (void)json_str;
    (void)json_len;
    (void)namespace_flags;
    (void)mount_flags;
    (void)rlimit_names;
    (void)capability_names;
    return fail("create is not written yet");
}

/* Only a created container starts: open the FIFO O_WRONLY | O_NONBLOCK, remove it, write a byte. */
static int start(const char *id) {
    /* TODO B.4 */
    (void)id;
    return fail("start is not written yet");
}

/* SIGNAL is a name (TERM, SIGTERM: signal_names and lookup) or a number; TERM if left out. */
static int kill_container(const char *id, const char *signal_arg) {
    /* TODO B.4 */
    (void)id;
    (void)signal_arg;
    (void)signal_names;
    return fail("kill is not written yet");
}

/* Only a stopped container is deleted: everything under ROOT/ID goes. */
static int delete(const char *id) {
    /* TODO B.4 */
    (void)id;
    return fail("delete is not written yet");
}

static int usage(const char *self) {
    fprintf(stderr,
            "usage: %s [--root DIR] create [--bundle DIR] ID\n"
            "       %s [--root DIR] start|state|delete ID\n"
            "       %s [--root DIR] kill ID [SIGNAL]\n",
            self, self, self);
    return 2;
}

int main(int argc, char **argv) {
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--root") == 0) {
        state_root = argv[i + 1];
        i += 2;
    }
    if (i >= argc) return usage(argv[0]);
    const char *command = argv[i++];
    if (strcmp(command, "create") == 0) {
        const char *bundle = ".";
        if (i + 1 < argc && strcmp(argv[i], "--bundle") == 0) {
            bundle = argv[i + 1];
            i += 2;
        }
        return i + 1 == argc ? create(bundle, argv[i]) : usage(argv[0]);
    }
    if (strcmp(command, "kill") == 0 && (argc - i == 1 || argc - i == 2))
        return kill_container(argv[i], argc - i == 2 ? argv[i + 1] : NULL);
    if (argc - i != 1) return usage(argv[0]);
    if (strcmp(command, "start") == 0) return start(argv[i]);
    if (strcmp(command, "state") == 0) return state(argv[i]);
    if (strcmp(command, "delete") == 0) return delete(argv[i]);
    return usage(argv[0]);
}
