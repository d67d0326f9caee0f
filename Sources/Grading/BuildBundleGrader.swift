// B.4's part of the build track's grader: the student's runtime taken through runc's lifecycle
// for a bundle the driver writes, inside the same nested container as the other levels.
import Exercises
import Foundation

extension Grader {
    /// What B.4's config.json asks for; the ID, hostname and token are this grading's own.
    static func bundleRequest() -> Evaluation.BundleRequest {
        func random(_ digits: Int) -> String {
            String(String(UInt64.random(in: 0...UInt64.max), radix: 16).suffix(digits))
        }
        return Evaluation.BundleRequest(
            id: "b4-" + random(8), bundle: "/tmp/bundle", hostname: "box-" + random(6),
            token: "token-" + random(12), cwd: "/work", arguments: ["first", "two words"],
            capabilities: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            openFiles: (soft: 100, hard: 200), tmpfsSize: "2048k")
    }

    /// The program of B.4's container (`/bin/sh /probe.sh first 'two words'`): it traps TERM
    /// first (as PID 1 of its namespace it would ignore a signal it has no handler for), marks
    /// that it ran, writes its report from inside to /report, says it is ready, and waits.
    static let bundleProbe = """
        trap 'echo yes > /trapped; exit 0' TERM
        echo yes > /started
        {
            echo "args=$1|$2"
            echo "cwd=$(pwd)"
            env | sed 's/^/env_/'
            echo "hostname=$(hostname)"
            echo inspect-begin; /usr/local/bin/contlab inspect --json; echo inspect-end
            echo mountinfo-begin; cat /proc/self/mountinfo; echo mountinfo-end
            echo "data=$(cat /data/hello)"
            echo "$LAB_TOKEN" > /data/back
            echo "nofile=$(grep 'Max open files' /proc/self/limits)"
        } > /report 2>&1
        echo yes > /ready
        while :; do sleep 0.2; done
        """

    /// Shell functions B.4's and B.5's drivers share: `say` keeps a line of the driver's own
    /// for the end of its output (nothing the runtime printed earlier stands for it), `alive`
    /// tells a live process from a gone or zombie one, and `procs` lists the live processes
    /// whose PID or mount namespace is not the driver's, which are the container's or a leftover.
    static let driverHelpers = #"""
        said=/tmp/said; : > $said
        say() { echo "$*" >> $said; }
        alive() { read -r _ _ st _ 2> /dev/null < "/proc/$1/stat" && [ "$st" != Z ]; }
        nsof() { echo "$(readlink /proc/$1/ns/pid 2> /dev/null) $(readlink /proc/$1/ns/mnt 2> /dev/null)"; }
        mine=$(nsof $$)
        procs() {
            out=""
            for d in /proc/[0-9]*; do
                p=${d#/proc/}
                alive $p || continue
                n=$(nsof $p)
                [ "$n" != " " ] && [ "$n" != "$mine" ] && out="$out $p"
            done
            echo $out
        }
        """#

    /// B.4's part of the driver. The bundle is /tmp/bundle (ROOTFS is its rootfs folder),
    /// handed to create as `bundle` from /tmp, so that both the bundle's absolute path and
    /// root.path relative to the bundle are put to the test. Every command has 5 s; the lines
    /// the driver says are kept in a file and printed after the program's report, so that
    /// nothing the program printed stands for them. The container's processes are found as
    /// those whose PID or mount namespace is not the driver's.
    static func bundleRuns(_ request: Evaluation.BundleRequest) -> String {
        let caps = request.capabilities.map { "\"\($0)\"" }.joined(separator: ", ")
        let args = (["/bin/sh", "/probe.sh"] + request.arguments).map { "\"\($0)\"" }.joined(separator: ", ")
        return #"""
            mkdir -p "$rootfs/work" "$rootfs/scratch" "$rootfs/data" /tmp/share /tmp/bundle2 /tmp/state
            echo "\#(request.token)" > /tmp/share/hello
            printf '%s\n' "$CONTLAB_BUNDLE_PROBE" > "$rootfs/probe.sh"
            cat > /tmp/bundle/config.json <<EOF
            {
                "ociVersion": "1.0.2",
                "process": {
                    "terminal": false,
                    "user": {"uid": 0, "gid": 0},
                    "args": [\#(args)],
                    "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LAB_TOKEN=\#(request.token)", "CONTLAB_HOST_NS=$CONTLAB_HOST_NS"],
                    "cwd": "\#(request.cwd)",
                    "capabilities": {"bounding": [\#(caps)], "effective": [\#(caps)], "permitted": [\#(caps)]},
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": \#(request.openFiles.hard), "soft": \#(request.openFiles.soft)}]
                },
                "root": {"path": "rootfs"},
                "hostname": "\#(request.hostname)",
                "mounts": [
                    {"destination": "/proc", "type": "proc", "source": "proc"},
                    {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755", "size=2m"]},
                    {"destination": "/data", "type": "bind", "source": "/tmp/share", "options": ["rbind", "rw"]}
                ],
                "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}]}
            }
            EOF
            # The second container, for delete while running: its root given as an absolute path.
            cat > /tmp/bundle2/config.json <<EOF
            {
                "ociVersion": "1.0.2",
                "process": {"args": ["/bin/sh", "-c", "trap 'exit 0' TERM; echo yes > /up2; while :; do sleep 0.2; done"],
                            "env": ["PATH=/usr/bin:/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
                "root": {"path": "$rootfs"},
                "mounts": [],
                "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
            }
            EOF
            # A variable of the runtime's own, which the program must not see.
            export OUTSIDE_ONLY=1
            RUNTIME="$*"
            rt() { timeout -s KILL 5 $RUNTIME --root /tmp/state "$@"; }
            \#(Self.driverHelpers)
            excerpt() { tail -c 200 "$1" 2> /dev/null | tr '\n' ' '; }
            state() { rt state "$1" 2> /dev/null | tr '\n' ' '; }
            waitfor() { t=0; while [ ! -e "$1" ] && [ $t -lt $2 ]; do sleep 0.1; t=$((t+1)); done; }
            yesno() { if [ -e "$1" ]; then echo yes; else echo no; fi; }
            id=\#(request.id)
            cd /tmp
            rt create --bundle bundle $id > /tmp/out.create 2>&1; say "create_status=$?"; say "create_said=$(excerpt /tmp/out.create)"
            sleep 0.5
            say "create_started=$(yesno "$rootfs/started")"
            say "create_procs=$(procs)"
            say "state_created=$(state $id)"
            rt start $id > /tmp/out.start 2>&1; say "start_status=$?"; say "start_said=$(excerpt /tmp/out.start)"
            waitfor "$rootfs/ready" 50
            say "started=$(yesno "$rootfs/ready")"
            say "running_procs=$(procs)"
            say "state_running=$(state $id)"
            say "back=$(cat /tmp/share/back 2> /dev/null)"
            rt create --bundle /tmp/bundle $id > /dev/null 2>&1; say "refuse_create=$?"
            rt start $id > /dev/null 2>&1; say "refuse_start=$?"
            rt start nosuch-$id > /dev/null 2>&1; say "refuse_unknown=$?"
            say "refused_state=$(state $id)"
            say "refused_procs=$(procs)"
            rt kill $id TERM > /tmp/out.kill 2>&1; say "kill_status=$?"; say "kill_said=$(excerpt /tmp/out.kill)"
            waitfor "$rootfs/trapped" 30
            t=0; while [ -n "$(procs)" ] && [ $t -lt 30 ]; do sleep 0.1; t=$((t+1)); done
            say "trapped=$(yesno "$rootfs/trapped")"
            say "stopped_procs=$(procs)"
            say "state_stopped=$(state $id)"
            rt delete $id > /tmp/out.delete 2>&1; say "delete_status=$?"; say "delete_said=$(excerpt /tmp/out.delete)"
            rt state $id > /dev/null 2>&1; say "gone_state=$?"
            say "gone_left=$(ls -A /tmp/state 2> /dev/null | tr '\n' ' ')"
            say "left_procs=$(procs)"
            # Whatever the first container left must not weigh on the second.
            for p in $(procs); do kill -KILL $p 2> /dev/null; done
            rt create --bundle /tmp/bundle2 $id-2 > /tmp/out.second 2>&1; c2=$?
            rt start $id-2 >> /tmp/out.second 2>&1; s2=$?
            say "second_status=$c2 $s2"
            waitfor "$rootfs/up2" 50
            rt delete $id-2 > /dev/null 2>&1; say "refuse_delete=$?"
            say "second_state=$(state $id-2)"
            say "second_procs=$(procs)"
            rt kill $id-2 KILL > /dev/null 2>&1
            t=0; while [ -n "$(procs)" ] && [ $t -lt 30 ]; do sleep 0.1; t=$((t+1)); done
            rt delete $id-2 > /dev/null 2>&1
            for p in $(procs); do kill -KILL $p 2> /dev/null; done
            say "outside=$(hostname)"
            cat "$rootfs/report" 2> /dev/null; echo
            cat $said
            echo "built=0"
            """#
    }
}
