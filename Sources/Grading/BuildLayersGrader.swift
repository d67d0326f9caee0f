// B.5's part of the build track's grader: the student's runtime given two layers and an upper
// directory, run twice in the same nested container as the other levels.
import Exercises
import Foundation

extension Grader {
    /// B.5's tokens, this grading's own.
    static func layersRequest() -> Evaluation.LayersRequest {
        func random() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 16) }
        return Evaluation.LayersRequest(
            baseToken: "base-" + random(), appToken: "app-" + random(), written: "w-" + random())
    }

    /// The command of B.5's runs (`/bin/sh -c PROBE RUN TOKEN`): it reads a file of each layer and
    /// the one both have; the first run writes a new file, appends to a file of the top layer and
    /// removes one of the base's, then prints its mount table; the second looks for those changes.
    static let layersProbe = """
        r=$0
        echo "${r}_layer=$(cat /layer 2>&1)"
        echo "${r}_baseonly=$(cat /base-only 2>&1)"
        echo "${r}_appfile=$(cat /app/config 2>&1)"
        if [ "$r" = first ]; then
            echo "$1" > /written; echo "${r}_wrote=$?"
            echo "$1" >> /shared.txt
            rm /doomed; echo "${r}_removed=$?"
            if [ -e /doomed ]; then echo "${r}_doomed=present"; else echo "${r}_doomed=absent"; fi
            echo mountinfo-begin; cat /proc/self/mountinfo; echo mountinfo-end
        else
            echo "${r}_written=$(cat /written 2> /dev/null)"
            if [ -e /doomed ]; then echo "${r}_doomed=present"; else echo "${r}_doomed=absent"; fi
        fi
        """

    /// B.5's part of the driver. The base layer is the busybox copy at /tmp/layers/base (with
    /// /layer, /base-only and /doomed added), the top one /tmp/layers/app (/layer, /app/config,
    /// /shared.txt). Each run gets an empty UPPER, WORK and ROOTFS of its own. Every layer's
    /// fingerprint (names, types, sizes, modes, link targets and contents) is taken before the
    /// first run and after the second. What the runtime left is what the driver's mount table
    /// gained, and any process whose PID or mount namespace is not the driver's. The runtime's
    /// output is printed first, the driver's lines after it.
    static func layerRuns(_ request: Evaluation.LayersRequest) -> String {
        #"""
        mkdir -p /tmp/layers/app/app
        echo base > /tmp/layers/base/layer
        echo "\#(request.baseToken)" > /tmp/layers/base/base-only
        echo doomed > /tmp/layers/base/doomed
        echo app > /tmp/layers/app/layer
        echo "\#(request.appToken)" > /tmp/layers/app/app/config
        echo original > /tmp/layers/app/shared.txt
        # The grader's own overlay first: a kernel before Linux 5.11 refuses overlayfs in a
        # user namespace, which is no fault of the runtime.
        mkdir -p /tmp/try/lower /tmp/try/upper /tmp/try/work /tmp/try/merged
        if ! mount -t overlay overlay -o lowerdir=/tmp/try/lower,upperdir=/tmp/try/upper,workdir=/tmp/try/work \
                /tmp/try/merged > /tmp/setup.log 2>&1; then
            echo "built=0"
            echo "setup=this kernel ($(uname -r)) does not mount overlayfs in a user namespace, as Linux 5.11 and later do: $(tail -c 120 /tmp/setup.log | tr '\n' ' ')"
            exit 0
        fi
        umount /tmp/try/merged
        fingerprint() {
            (cd "$1" && { find . -printf '%p %y %s %m %l\n' | sort; find . -type f -exec md5sum {} + | sort; }) \
                | md5sum | cut -c1-32
        }
        base=$(fingerprint /tmp/layers/base); app=$(fingerprint /tmp/layers/app)
        \#(Self.driverHelpers)
        RUNTIME="$*"
        layered() {
            run=$1
            mkdir -p /tmp/$run/upper /tmp/$run/work /tmp/$run/rootfs
            cut -d' ' -f5 /proc/self/mountinfo | sort > /tmp/mounts.before
            setsid -w timeout -s KILL 15 $RUNTIME run --layer /tmp/layers/base --layer /tmp/layers/app \
                --upper /tmp/$run/upper --work /tmp/$run/work /tmp/$run/rootfs \
                /bin/sh -c "$CONTLAB_LAYERS_PROBE" $run "\#(request.written)" > /tmp/out.$run 2> /tmp/err.$run
            status=$?
            cat /tmp/out.$run; echo
            say "${run}_status=$status"
            [ $status -eq 137 ] && say "${run}_hung=yes"
            say "${run}_said=$(tail -c 160 /tmp/err.$run | tr '\n' ' ')"
            cut -d' ' -f5 /proc/self/mountinfo | sort > /tmp/mounts.after
            left=$(comm -13 /tmp/mounts.before /tmp/mounts.after | tr '\n' ' ')
            say "${run}_leftmounts=$left"
            say "${run}_leftprocs=$(procs)"
            # Whatever the run left must not weigh on the next.
            for p in $(procs); do kill -KILL $p 2> /dev/null; done
            for m in $left; do umount -l "$m" 2> /dev/null; done
        }
        layered first
        say "upper_list=$(ls -A /tmp/first/upper 2> /dev/null | tr '\n' ' ')"
        say "upper_written=$(cat /tmp/first/upper/written 2> /dev/null)"
        say "upper_shared=$(tr '\n' '|' < /tmp/first/upper/shared.txt 2> /dev/null)"
        say "upper_doomed=$(stat -c '%F %t:%T' /tmp/first/upper/doomed 2> /dev/null)"
        layered second
        [ "$(fingerprint /tmp/layers/base)" = "$base" ] && say lower_base=same || say lower_base=changed
        [ "$(fingerprint /tmp/layers/app)" = "$app" ] && say lower_app=same || say lower_app=changed
        say "lower_written=$(cd /tmp/layers && ls -d */written 2> /dev/null | sed 's,/written,,' | tr '\n' ' ')"
        [ -e /tmp/layers/base/doomed ] && say lower_doomed=present || say lower_doomed=absent
        say "lower_shared=$(tr '\n' '|' < /tmp/layers/app/shared.txt 2> /dev/null)"
        cat $said
        echo "built=0"
        """#
    }
}
