#!/bin/sh
# make bench: `run /bin/true` from start to exit, contlab against runc and crun, interleaved by
# hyperfine in one session, with medians and ratios. crun 1.8 refuses a hybrid cgroup host, so
# the whole benchmark runs in a private mount namespace with the cgroup2 mount hidden: every
# runtime then sees the same v1 hierarchies. Last, `docker run --rm busybox true` through the
# lab's dockerd with contlab-runc, runc and crun (BENCH_DOCKER_RUNS rounds, default 20).
set -eu
if [ "${CONTLAB_BENCH_INNER:-}" != 1 ]; then
    if grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo; then
        exec unshare --mount --propagation private env CONTLAB_BENCH_INNER=1 sh "$0" "$@"
    fi
fi
[ "${CONTLAB_BENCH_INNER:-}" = 1 ] && umount /sys/fs/cgroup/unified 2>/dev/null || true

top=$(cd "$(dirname "$0")/.." && pwd)
contlab=$top/bin/contlab
runs=${BENCH_RUNS:-200}
rootfs=$("$contlab" rootfs build busybox)
work=$(mktemp -d /tmp/contlab-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# One bundle for the OCI runtimes: runc's default spec, the busybox tree as root, /bin/true.
mkdir -p "$work/bundle"
(cd "$work/bundle" && runc spec)
python3 - "$work/bundle/config.json" "$rootfs" <<'PY'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
config = json.load(open(path))
config["root"] = {"path": rootfs, "readonly": True}
config["process"]["args"] = ["/bin/true"]
config["process"]["terminal"] = False
json.dump(config, open(path, "w"), indent=2)
PY

# contlab-runc is contlab under runc's name (argv[0] picks the runc-compatible entry point).
ln -s "$contlab" "$work/contlab-runc"
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/result.json" \
    -n "contlab-runc" "$work/contlab-runc --root $work/contlab run --bundle $work/bundle bench-contlab" \
    -n "runc" "runc --root $work/runc run --bundle $work/bundle bench-runc" \
    -n "crun" "crun --root $work/crun run --bundle $work/bundle bench-crun" \
    -n "contlab stage 2" "$contlab run --stage 2 -- /bin/true" \
    -n "contlab stage 3" "$contlab run --stage 3 --quiet -- /bin/true" >/dev/null

python3 - "$work/result.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {name: r["median"] * 1000 for name, r in results.items()}
print(f"run /bin/true in a busybox root, {len(next(iter(results.values()))['times'])} runs each (hyperfine -N)")
print("the OCI runtimes run one bundle (runc spec's defaults: 5 namespaces, a cgroup, 7 mounts, masked and read-only paths);")
print("contlab stage 2/3 are the lab's own runs (stage 3 adds a cgroup), for comparison")
print(f"{'runtime':18} {'median ms':>10} {'mean ms':>9} {'vs runc':>8} {'vs crun':>8}")
for name, r in results.items():
    print(f"{name:18} {med[name]:10.2f} {r['mean']*1000:9.2f} {med['runc']/med[name]:7.2f}x {med['crun']/med[name]:7.2f}x")
print("(vs X = X's median / this median: above 1 means faster than X)")
PY

# Peak memory: the largest resident set among each runtime's processes (the runtime, and the
# helpers and init it starts), as the kernel reports it for waited-for children.
python3 - "$work" "$contlab" <<'PY'
import resource, subprocess, sys
work, contlab = sys.argv[1], sys.argv[2]
commands = {
    "contlab-runc": [f"{work}/contlab-runc", "--root", f"{work}/contlab", "run", "--bundle", f"{work}/bundle", "rss-contlab"],
    "runc": ["runc", "--root", f"{work}/runc", "run", "--bundle", f"{work}/bundle", "rss-runc"],
    "crun": ["crun", "--root", f"{work}/crun", "run", "--bundle", f"{work}/bundle", "rss-crun"],
}
print()
print("peak memory of one run (max RSS among the runtime's processes, 5 runs each)")
for name, argv in commands.items():
    probe = "import resource, subprocess, sys\nfor _ in range(5): subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    kib = int(subprocess.run([sys.executable, "-c", probe] + argv, capture_output=True, text=True).stdout.strip() or 0)
    print(f"{name:18} {kib / 1024:6.1f} MiB")
PY

# Lesson rendering: contlab's libcmark terminal renderer against the cmark command itself, and
# contlab's own start-up (`--help`) for the cost that is only process start.
lesson="$top/lessons/en/stage2-namespaces.md"
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/lessons.json" \
    -n "contlab lessons show" "$contlab lessons show stage2-namespaces --no-pager --color never" \
    -n "contlab start-up (--help)" "$contlab --help" \
    -n "cmark (HTML)" "cmark $lesson" >/dev/null
python3 - "$work/lessons.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print()
print("rendering one lesson (stage2-namespaces, English)")
for r in results:
    print(f"{r['command']:42} median {r['median']*1000:6.2f} ms")
show = results[0]["median"] * 1000
start = results[1]["median"] * 1000
print(f"rendering work beyond contlab's start-up: {show - start:.2f} ms")
PY

# Stage 5: unpacking a busybox image into a bundle, contlab against umoci (both read the same
# OCI layout); and starting a container on an overlay root against the plain directory root of
# the OCI bundle above. The images live in a private data directory.
export CONTLAB_DATA="$work/data"
"$contlab" image build --dir "$rootfs" bench/busybox:latest >/dev/null
"$contlab" image export bench/busybox:latest "$work/layout" >/dev/null
hyperfine -N --warmup 3 --runs "${BENCH_UNPACK_RUNS:-30}" --export-json "$work/unpack.json" \
    --prepare "rm -rf $work/unpacked" \
    -n "contlab image unpack" "$contlab image unpack bench/busybox:latest $work/unpacked" \
    -n "umoci unpack" "umoci unpack --image $work/layout:bench/busybox:latest $work/unpacked" >/dev/null
rm -rf "$work/unpacked"
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/overlay.json" \
    -n "stage 5 (overlay root)" "$contlab run --stage 5 --image bench/busybox:latest --rm -- /bin/true" \
    -n "contlab-runc (plain root)" "$work/contlab-runc --root $work/contlab run --bundle $work/bundle bench-plain" >/dev/null
python3 - "$work/unpack.json" "$work/overlay.json" <<'PY'
import json, sys
for title, path in (("unpack a busybox image into a bundle", sys.argv[1]), ("run /bin/true: overlay root against a plain root", sys.argv[2])):
    results = json.load(open(path))["results"]
    print()
    print(title)
    for r in results:
        print(f"{r['command']:42} median {r['median']*1000:7.2f} ms")
    print(f"ratio {results[1]['median']/results[0]['median']:.2f}x (second / first)")
PY
unset CONTLAB_DATA

# Stage 6: run /bin/true on a lab network against stage 2 with none (the cost of contlab's own
# wiring: a veth pair, an address and a route, sent by netlink), and the CNI bridge plugin's ADD
# and DEL on an empty namespace, run in the same network's host side (the cost of the plugin way;
# `network shell -- true` is measured too, for what entering the host side costs alone).
net="bench-$$"
"$contlab" network create "$net" >/dev/null
cat > "$work/cni.conf" <<CONF
{"cniVersion": "1.0.0", "name": "$net", "type": "bridge", "bridge": "cnibench0", "isGateway": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "172.31.250.0/24"}]], "dataDir": "$work/cni-ipam"}}
CONF
# The container's side: an empty named namespace, in this script's private mount namespace.
ns="contlab-bench-$$"
ip netns add "$ns"
cni="CNI_PATH=/usr/lib/cni CNI_CONTAINERID=bench CNI_IFNAME=eth0 CNI_NETNS=/run/netns/$ns"
cni_pair="env $cni CNI_COMMAND=ADD /usr/lib/cni/bridge < $work/cni.conf > /dev/null && env $cni CNI_COMMAND=DEL /usr/lib/cni/bridge < $work/cni.conf"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/network.json" \
    -n "stage 2, no network" "$contlab run --stage 2 -- /bin/true" \
    -n "stage 6, on a lab network" "$contlab run --stage 6 --network $net -- /bin/true" \
    -n "network shell -- true" "$contlab network shell $net -- true" \
    -n "CNI bridge ADD + DEL (in network shell)" "$contlab network shell $net -- sh -c '$cni_pair'" >/dev/null
"$contlab" network rm --force "$net" >/dev/null
ip netns del "$ns"
python3 - "$work/network.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print()
print("stage 6: contlab's wiring against the CNI bridge plugin")
for name, r in results.items():
    print(f"{name:42} median {r['median']*1000:7.2f} ms")
wiring = results["stage 6, on a lab network"]["median"] - results["stage 2, no network"]["median"]
plugin = results["CNI bridge ADD + DEL (in network shell)"]["median"] - results["network shell -- true"]["median"]
print(f"contlab's wiring {wiring*1000:.2f} ms a container; the bridge plugin's ADD + DEL {plugin*1000:.2f} ms")
PY

# Grading: every exercise's reference solution (Tests/ExerciseSolutions) in one workspace,
# graded for real — containers, nested stage-1 and stage-2 runs, hand-made cgroups with their
# memory hogs and the 1.5 s CPU loop, runc as well as contlab-runc for stage 4.
grade_runs=${BENCH_GRADE_RUNS:-5}
"$contlab" exercises init "$work/grading" >/dev/null 2>&1
for reference in "$top"/Tests/ExerciseSolutions/*/reference; do
    id=$(basename "$(dirname "$reference")")
    cp "$reference"/* "$work/grading/$id"-*/
done
"$contlab" verify --workspace "$work/grading" >/dev/null   # must pass: exits non-zero otherwise
hyperfine -N --warmup 1 --runs "$grade_runs" --export-json "$work/grading.json" \
    -n "all 17 exercises" "$contlab verify --workspace $work/grading" \
    -n "stage 1" "$contlab verify --workspace $work/grading --stage 1" \
    -n "stage 2" "$contlab verify --workspace $work/grading --stage 2" \
    -n "stage 3" "$contlab verify --workspace $work/grading --stage 3" \
    -n "stage 4" "$contlab verify --workspace $work/grading --stage 4" \
    -n "stage 5" "$contlab verify --workspace $work/grading --stage 5" \
    -n "H.1 (history)" "$contlab verify --workspace $work/grading H.1" >/dev/null
python3 - "$work/grading.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print()
print(f"grading the reference solutions (contlab verify, {len(results[0]['times'])} runs each)")
for r in results:
    print(f"{r['command']:20} median {r['median']:6.2f} s   min {r['min']:6.2f} s   max {r['max']:6.2f} s")
PY

# A class at once: BENCH_CLASS_SIZE copies of that workspace (default 8) graded by contlab grade
# with --jobs 1 (one after another), 2 and the class size (all at once); each grading has its
# own containers, cgroups and image store. Wall time of each and the speed-up over --jobs 1.
class_size=${BENCH_CLASS_SIZE:-8}
mkdir -p "$work/class"
i=1; while [ "$i" -le "$class_size" ]; do cp -a "$work/grading" "$work/class/student$i"; i=$((i + 1)); done
hyperfine -N --warmup 0 --runs "${BENCH_CLASS_RUNS:-2}" --export-json "$work/class.json" \
    -n "jobs 1" "$contlab grade $work/class --out $work/grades1 --jobs 1" \
    -n "jobs 2" "$contlab grade $work/class --out $work/grades2 --jobs 2" \
    -n "jobs $class_size" "$contlab grade $work/class --out $work/gradesN --jobs $class_size" >/dev/null
python3 - "$work/class.json" "$class_size" <<'PY'
import json, os, sys
results = json.load(open(sys.argv[1]))["results"]
one = results[0]["median"]
print()
print(f"a class of {sys.argv[2]} workspaces (all 17 exercises each) through contlab grade, {os.cpu_count()} cores")
for r in results:
    print(f"--{r['command']:10} median {r['median']:6.2f} s   ({one / r['median']:.2f}x the speed of --jobs 1)")
PY

# Through Docker: `docker run --rm busybox true` on the lab's dockerd with contlab-runc, runc and
# crun as its runtime, one after the other in every round (interleaved, so a slow moment of the
# machine costs all three alike). The daemon is started here, inside this script's mount
# namespace (crun needs the cgroup2 mount hidden), and stopped at the end.
if [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ]; then
    "$contlab" engines stop docker >/dev/null 2>&1 || true
    "$contlab" engines setup docker --private >/dev/null
    python3 - "${BENCH_DOCKER_RUNS:-20}" <<'PY'
import statistics, subprocess, sys, time
rounds = int(sys.argv[1])
docker = ["/usr/bin/docker", "--host", "unix:///var/lib/contlab/engines/docker/docker.sock"]
def run(runtime):
    began = time.perf_counter()
    done = subprocess.run(docker + ["run", "--rm", "--runtime", runtime, "--network", "none", "busybox", "true"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - began, done
runtimes = []
for runtime in ["contlab", "runc", "crun"]:
    _, done = run(runtime)
    if done.returncode == 0:
        runtimes.append(runtime)
    else:
        print(f"({runtime} does not run under this dockerd: {done.stderr.decode().strip().splitlines()[-1]})")
times = {r: [] for r in runtimes}
for _ in range(rounds):
    for runtime in runtimes:
        elapsed, _ = run(runtime)
        times[runtime].append(elapsed * 1000)
print()
print(f"docker run --rm --network none busybox true, through the lab's dockerd (Docker 20.10, containerd 1.6), {rounds} interleaved rounds")
print(f"{'runtime':10} {'median ms':>10} {'vs runc':>8}")
base = statistics.median(times["runc"]) if "runc" in times else None
for runtime in runtimes:
    med = statistics.median(times[runtime])
    ratio = f"{base / med:7.2f}x" if base else "      -"
    print(f"{runtime:10} {med:10.1f} {ratio}")
print("(vs runc = runc's median / this median: the runtime is one part of what docker run costs)")
PY
    "$contlab" engines stop docker >/dev/null
else
    echo
    echo "Docker is not installed (no /usr/sbin/dockerd or /usr/bin/docker): install Debian's docker.io (make setup) for the docker run comparison"
fi
