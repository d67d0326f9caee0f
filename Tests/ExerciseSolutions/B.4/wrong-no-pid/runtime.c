/* A wrong B.4 runtime: everything works, but state prints no pid. The runtime-spec requires
 * pid while the container is created or running: it is how a caller (containerd, a test)
 * finds the container's process to watch it or to join its namespaces.
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

/* ---- The state of a container: ROOT/ID/state.json holds what create knew; the status is
 * read from the kernel each time it is asked for. ---- */

struct container {
    char id[256];
    char bundle[4096];
    pid_t pid;
};

/* Load ID's state; -1 (and a message) if there is no such container. */
static int load(const char *id, struct container *c) {
    char path[4096];
    path_in(path, sizeof path, id, "state.json");
    char *text = read_file(path);
    struct json *state = text ? json_parse(text) : NULL;
    if (state == NULL) {
        fprintf(stderr, "runtime: no container %s\n", id);
        return -1;
    }
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->bundle, sizeof c->bundle, "%s", json_str(json_get(state, "bundle")) ?: "");
    struct json *pid = json_get(state, "pid");
    c->pid = pid && pid->type == JSON_NUMBER ? (pid_t)pid->number : 0;
    free(text);
    return 0;
}

/* stopped: the process is gone, or a zombie nobody has reaped yet (kill(pid, 0) would still
 * succeed for one); created: it lives and still waits on the FIFO; running: the FIFO is gone. */
static const char *status_of(const struct container *c) {
    char path[4096], stat_line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)c->pid);
    FILE *f = c->pid > 0 ? fopen(path, "r") : NULL;
    if (f == NULL) return "stopped";
    size_t n = fread(stat_line, 1, sizeof stat_line - 1, f);
    fclose(f);
    stat_line[n] = '\0';
    /* "PID (COMM) S ...": the state letter follows the last ')', since COMM may hold one. */
    char *paren = strrchr(stat_line, ')');
    if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X') return "stopped";
    path_in(path, sizeof path, c->id, "exec.fifo");
    return access(path, F_OK) == 0 ? "created" : "running";
}

/* ---- create ---- */

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

/* The child's errors: said on stderr (create's, which the caller sees), then exit; create
 * reads the end of the ready pipe and reports the failure. */
static void die(const char *what, const char *detail) {
    fprintf(stderr, "runtime: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
    _exit(1);
}

/* One entry of config.json's mounts, made under the rootfs before pivot_root: a bind's
 * source is a path of the runtime's own file system, which is gone afterwards. */
static void make_mount(const char *rootfs, const struct json *m) {
    const char *destination = json_str(json_get(m, "destination"));
    const char *type = json_str(json_get(m, "type"));
    const char *source = json_str(json_get(m, "source"));
    if (destination == NULL || destination[0] != '/') {
        errno = EINVAL;
        die("mount destination must be an absolute path:", destination);
    }
    unsigned long flags = 0;
    char data[1024] = "";
    const struct json *options = json_get(m, "options");
    for (int i = 0; i < json_len(options); i++) {
        const char *option = json_str(options->items[i]);
        unsigned long flag;
        if (option == NULL) continue;
        if (lookup(mount_flags, option, &flag) == 0) {
            flags |= flag;
        } else {
            /* mode=755, size=2m...: the file system's own options, comma-separated. */
            size_t used = strlen(data);
            snprintf(data + used, sizeof data - used, "%s%s", used ? "," : "", option);
        }
    }
    if (type && strcmp(type, "bind") == 0) flags |= MS_BIND;
    char target[4096];
    snprintf(target, sizeof target, "%s%s", rootfs, destination);
    struct stat info;
    if ((flags & MS_BIND) && source && stat(source, &info) == 0 && !S_ISDIR(info.st_mode)) {
        if (access(target, F_OK) != 0) {  /* a file bound onto a file */
            char parent[4096];
            snprintf(parent, sizeof parent, "%s", target);
            *strrchr(parent, '/') = '\0';
            make_dirs(parent, 0755);
            close(open(target, O_CREAT | O_WRONLY, 0644));
        }
    } else if (make_dirs(target, 0755) != 0) {
        die("mkdir", target);
    }
    if (flags & MS_BIND) {
        if (mount(source, target, NULL, flags & (MS_BIND | MS_REC), NULL) != 0) die("bind mount", target);
        /* A bind takes no other flags at first: ro, nosuid... need a remount of the bind. */
        unsigned long rest = flags & ~(MS_BIND | MS_REC);
        if (rest && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | rest, NULL) != 0) die("remount", target);
    } else if (mount(source, target, type, flags, data[0] ? data : NULL) != 0) {
        die("mount", target);
    }
}

static void set_rlimits(const struct json *rlimits) {
    for (int i = 0; i < json_len(rlimits); i++) {
        const struct json *r = rlimits->items[i];
        unsigned long resource;
        const struct json *soft = json_get(r, "soft"), *hard = json_get(r, "hard");
        if (lookup(rlimit_names, json_str(json_get(r, "type")), &resource) != 0 || !soft || !hard) {
            errno = EINVAL;
            die("process.rlimits: unknown type", json_str(json_get(r, "type")));
        }
        struct rlimit limit = {(rlim_t)soft->number, (rlim_t)hard->number};
        if (setrlimit((int)resource, &limit) != 0) die("setrlimit", json_str(json_get(r, "type")));
    }
}

/* The capability sets named in the list, as the two 32-bit words capset takes. */
static void capability_mask(const struct json *list, __u32 mask[2]) {
    mask[0] = mask[1] = 0;
    for (int i = 0; i < json_len(list); i++) {
        const char *name = json_str(list->items[i]);
        for (int cap = 0; name && cap < CAPABILITY_COUNT; cap++)
            if (strcmp(capability_names[cap], name) == 0) mask[cap / 32] |= 1u << (cap % 32);
    }
}

/* process.capabilities: the bounding set first (what an exec as root could get back), then
 * the three sets capset writes. Dropping from the bounding set takes CAP_SETPCAP, which the
 * effective set still holds until capset. */
static void set_capabilities(const struct json *caps) {
    if (caps == NULL) return;
    const struct json *bounding = json_get(caps, "bounding");
    if (bounding) {
        __u32 keep[2];
        capability_mask(bounding, keep);
        for (int cap = 0; cap <= 63; cap++) {
            if ((keep[cap / 32] >> (cap % 32)) & 1) continue;
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) die("prctl(PR_CAPBSET_DROP)", NULL);
        }
    }
    __u32 effective[2], permitted[2], inheritable[2];
    capability_mask(json_get(caps, "effective"), effective);
    capability_mask(json_get(caps, "permitted"), permitted);
    capability_mask(json_get(caps, "inheritable"), inheritable);
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
        data[i].effective = effective[i];
        data[i].permitted = permitted[i];
        data[i].inheritable = inheritable[i];
    }
    if (syscall(SYS_capset, &header, data) != 0) die("capset", NULL);
}

/* The container process, from the fork to the exec: namespaces, mounts, root, hostname,
 * working directory, limits, then the wait for `start`. */
static void container_process(const struct json *config, const char *bundle, unsigned long namespaces,
                              const char *fifo, int ready) {
    const struct json *process = json_get(config, "process");
    /* The PID namespace was made before the fork (it is the children's); the others now. */
    if (unshare(namespaces & ~CLONE_NEWPID) != 0) die("unshare", NULL);
    const char *hostname = json_str(json_get(config, "hostname"));
    if (hostname && sethostname(hostname, strlen(hostname)) != 0) die("sethostname", hostname);

    const char *root = json_str(json_get(json_get(config, "root"), "path"));
    char rootfs[4096];
    if (root == NULL) {
        errno = EINVAL;
        die("config.json has no root.path", NULL);
    }
    /* root.path is relative to the bundle, not to where create was run. */
    if (root[0] == '/') snprintf(rootfs, sizeof rootfs, "%s", root);
    else snprintf(rootfs, sizeof rootfs, "%s/%s", bundle, root);

    /* Opened now, while ROOT is in view: after pivot_root it is not. O_RDWR does not block,
     * and keeps the FIFO open for writing to (start's open then finds a reader). */
    int wait_fd = open(fifo, O_RDWR | O_CLOEXEC);
    if (wait_fd < 0) die("open", fifo);

    if (namespaces & CLONE_NEWNS) {
        /* Nothing mounted from here on propagates back to the host's mount namespace. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("mount / private", NULL);
        /* pivot_root wants a mount point; the recursive bind brings what is mounted inside. */
        if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) != 0) die("bind", rootfs);
        const struct json *mounts = json_get(config, "mounts");
        for (int i = 0; i < json_len(mounts); i++) make_mount(rootfs, mounts->items[i]);
        if (chdir(rootfs) != 0) die("chdir", rootfs);
        if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root", rootfs);
        if (umount2(".", MNT_DETACH) != 0) die("umount2 the old root", NULL);
    } else if (chroot(rootfs) != 0) {
        die("chroot", rootfs);
    }
    const char *cwd = json_str(json_get(process, "cwd"));
    if (chdir(cwd ? cwd : "/") != 0) die("chdir", cwd);

    const struct json *args = json_get(process, "args");
    if (json_len(args) == 0) {
        errno = EINVAL;
        die("process.args is empty", NULL);
    }
    char **argv = calloc(json_len(args) + 1, sizeof *argv);
    for (int i = 0; i < json_len(args); i++) argv[i] = (char *)json_str(args->items[i]);
    /* The environment is config.json's alone; execvp then looks the program up in its PATH. */
    clearenv();
    const struct json *env = json_get(process, "env");
    for (int i = 0; i < json_len(env); i++)
        if (json_str(env->items[i])) putenv((char *)json_str(env->items[i]));

    set_rlimits(json_get(process, "rlimits"));
    set_capabilities(json_get(process, "capabilities"));

    /* Set up: tell create, then wait for start's byte on the FIFO. */
    if (write(ready, "1", 1) != 1) die("write ready", NULL);
    close(ready);
    char go;
    if (read(wait_fd, &go, 1) != 1) die("read exec.fifo", NULL);
    execvp(argv[0], argv);
    die("exec", argv[0]);
}

static int valid_id(const char *id) {
    if (id[0] == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 200) return 0;
    for (const char *c = id; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("-_.+", *c)) return 0;
    return 1;
}

static void remove_state(const char *id) {
    char path[4096];
    path_in(path, sizeof path, id, "exec.fifo");
    unlink(path);
    path_in(path, sizeof path, id, "state.json");
    unlink(path);
    path_in(path, sizeof path, id, NULL);
    rmdir(path);
}

static int create(const char *bundle_arg, const char *id) {
    if (!valid_id(id)) return fail("an ID is letters, digits and - _ . + only");
    char bundle[4096];
    if (realpath(bundle_arg, bundle) == NULL) {
        fprintf(stderr, "runtime: bundle %s: %s\n", bundle_arg, strerror(errno));
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", bundle);
    char *text = read_file(path);
    if (text == NULL) {
        fprintf(stderr, "runtime: %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct json *config = json_parse(text);
    if (config == NULL || config->type != JSON_OBJECT) return fail("config.json is not a JSON object");

    unsigned long namespaces = 0;
    const struct json *list = json_get(json_get(config, "linux"), "namespaces");
    for (int i = 0; i < json_len(list); i++) {
        unsigned long flag;
        const char *type = json_str(json_get(list->items[i], "type"));
        if (lookup(namespace_flags, type, &flag) != 0) {
            fprintf(stderr, "runtime: namespace type %s is not supported\n", type ? type : "(none)");
            return 1;
        }
        if (json_get(list->items[i], "path")) return fail("joining a namespace by its path is not supported");
        namespaces |= flag;
    }

    /* The container's folder is made with mkdir, which fails if it exists: that is what makes
     * the ID this container's alone. */
    if (make_dirs(state_root, 0700) != 0) {
        fprintf(stderr, "runtime: %s: %s\n", state_root, strerror(errno));
        return 1;
    }
    path_in(path, sizeof path, id, NULL);
    if (mkdir(path, 0700) != 0) {
        fprintf(stderr, "runtime: container %s: %s\n", id, errno == EEXIST ? "the ID is in use" : strerror(errno));
        return 1;
    }
    char fifo[4096];
    path_in(fifo, sizeof fifo, id, "exec.fifo");
    if (mkfifo(fifo, 0600) != 0) {
        perror(fifo);
        remove_state(id);
        return 1;
    }
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || ((namespaces & CLONE_NEWPID) && unshare(CLONE_NEWPID) != 0)) {
        perror("create");
        remove_state(id);
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        remove_state(id);
        return 1;
    }
    if (pid == 0) {
        close(ready[0]);
        container_process(config, bundle, namespaces, fifo, ready[1]);
    }
    close(ready[1]);
    char byte;
    if (read(ready[0], &byte, 1) != 1) {
        /* The child said why on stderr before it exited. */
        waitpid(pid, NULL, 0);
        remove_state(id);
        return 1;
    }
    path_in(path, sizeof path, id, "state.json");
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        remove_state(id);
        return 1;
    }
    fprintf(f, "{\"id\": \"%s\", \"pid\": %d, \"bundle\": \"%s\"}\n", id, (int)pid, bundle);
    fclose(f);
    return 0;
}

/* ---- start, state, kill, delete ---- */

static int start(const char *id) {
    struct container c;
    if (load(id, &c) != 0) return 1;
    if (strcmp(status_of(&c), "created") != 0) {
        fprintf(stderr, "runtime: container %s is %s, not created: it cannot start\n", id, status_of(&c));
        return 1;
    }
    char fifo[4096];
    path_in(fifo, sizeof fifo, id, "exec.fifo");
    /* O_NONBLOCK: fails at once (ENXIO) if no process holds the FIFO any more. */
    int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror(fifo);
        return 1;
    }
    /* Gone before the byte goes: once the process may run, state says running. */
    unlink(fifo);
    int ok = write(fd, "1", 1) == 1;
    close(fd);
    return ok ? 0 : fail("could not write to exec.fifo");
}

static int state(const char *id) {
    struct container c;
    if (load(id, &c) != 0) return 1;
    const char *status = status_of(&c);
    printf("{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"%s\",\n  \"status\": \"%s\",\n", c.id, status);
    printf("  \"bundle\": \"%s\"\n}\n", c.bundle);
    return 0;
}

static const struct flag_name signal_names[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}, {NULL, 0},
};

static int kill_container(const char *id, const char *signal_arg) {
    struct container c;
    if (load(id, &c) != 0) return 1;
    const char *name = signal_arg ? signal_arg : "TERM";
    if (strncmp(name, "SIG", 3) == 0) name += 3;
    unsigned long signal;
    char *end;
    signal = strtoul(name, &end, 10);
    if (*name == '\0' || *end != '\0') {
        if (lookup(signal_names, name, &signal) != 0) {
            fprintf(stderr, "runtime: unknown signal %s\n", signal_arg);
            return 1;
        }
    }
    const char *status = status_of(&c);
    if (strcmp(status, "stopped") == 0) {
        fprintf(stderr, "runtime: container %s is stopped: there is nothing to signal\n", id);
        return 1;
    }
    if (kill(c.pid, (int)signal) != 0) {
        perror("kill");
        return 1;
    }
    return 0;
}

static int delete(const char *id) {
    struct container c;
    if (load(id, &c) != 0) return 1;
    const char *status = status_of(&c);
    if (strcmp(status, "stopped") != 0) {
        fprintf(stderr, "runtime: container %s is %s: kill it first, delete only removes a stopped one\n", id, status);
        return 1;
    }
    remove_state(id);
    return 0;
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
