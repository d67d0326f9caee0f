import Foundation

/// B.5, a root of layers: the student's runtime mounts an overlay of two read-only layers and an
/// upper directory of the run's own, and pivots into it. Judged from what the command saw inside
/// (which layer won, its root mount) and from what the driver found on disk afterwards (the upper
/// directory's files, each layer's fingerprint, what was left mounted or running). Pure.
extension Evaluation {
    /// What the grader's layers hold and what its command writes, so that what was seen can be
    /// compared with it. Each run of the grader draws new tokens.
    public struct LayersRequest: Sendable {
        /// The line of /base-only, a file only the bottom layer has.
        public var baseToken: String
        /// The line of /app/config, a file only the top layer has.
        public var appToken: String
        /// What the first run writes to /written and appends to /shared.txt.
        public var written: String

        public init(baseToken: String, appToken: String, written: String) {
            self.baseToken = baseToken
            self.appToken = appToken
            self.written = written
        }
    }

    public static let layersChecks = [
        "layer-order", "overlay-root", "writes-in-upper", "whiteout", "layers-untouched", "cleaned-up"
    ]

    /// What `stat -c '%F %t:%T'` prints for a whiteout: a character device numbered 0:0.
    static let whiteoutStat = "character special file 0:0"

    public static func buildLayers(probe: ProbeOutput, request: LayersRequest) -> [CheckOutcome] {
        let (built, said) = buildOutcome(probe)
        guard built else { return notBuilt(layersChecks, said: said) }
        let v = probe.values
        func value(_ key: String) -> String { (v[key] ?? "").trimmingCharacters(in: .whitespaces) }
        func ran(_ run: String) -> String {
            if value("\(run)_hung") == "yes" { return "the runtime had not exited after 15 s and was killed" }
            let words = value("\(run)_said")
            return "the runtime exited with \(v["\(run)_status"] ?? "?")"
                + (words.isEmpty ? "" : ", saying \(ProbeOutput.excerpt(words, limit: 100))")
        }
        // The command reported from inside only if this line, its first, came back.
        let inside = v["first_layer"] != nil

        // Which file each layer's name gives, inside: the top layer's /layer hides the base's.
        let layer = value("first_layer")
        let orderSeen: String
        if !inside {
            orderSeen = "the command did not report from inside (\(ran("first")))"
        } else if layer == "base" {
            orderSeen =
                "/layer read \"base\": the bottom layer hid the top one (overlay's lowerdir lists the topmost first)"
        } else {
            orderSeen =
                "/layer read \(ProbeOutput.excerpt(layer)), /base-only \(ProbeOutput.excerpt(value("first_baseonly"))), "
                + "/app/config \(ProbeOutput.excerpt(value("first_appfile")))"
        }
        let ordered =
            layer == "app" && value("first_baseonly") == request.baseToken
            && value("first_appfile") == request.appToken

        // The root: an overlay mount at /, in the container's own mount table.
        let rootType = ProbeOutput.filesystem(at: "/", in: probe.mountinfo)
        let rootSeen: String
        if !inside {
            rootSeen = "the command did not report from inside (\(ran("first")))"
        } else if probe.mountinfo.isEmpty {
            rootSeen = "/proc/self/mountinfo could not be read: no /proc in the new root (mount it as in B.2)"
        } else {
            rootSeen = "/ is " + (rootType.map { "a mount of type \($0)" } ?? "not a mount point of its own")
        }

        // The upper directory, read by the driver once the runtime exited.
        let upperWritten = value("upper_written")
        let upperShared = value("upper_shared")
        let sharedWanted = "original|\(request.written)|"
        let writesSeen: String
        if value("first_wrote") != "0" && inside {
            writesSeen = "the command could not write /written (status \(value("first_wrote")))"
        } else if upperWritten == request.written && upperShared == sharedWanted {
            writesSeen = "UPPER holds /written and the copied-up /shared.txt, with both its lines"
        } else {
            let list = value("upper_list")
            writesSeen =
                "UPPER held \(list.isEmpty ? "nothing" : list)"
                + (upperWritten.isEmpty ? "" : "; its /written read \(ProbeOutput.excerpt(upperWritten))")
                + (upperShared.isEmpty || upperShared == sharedWanted
                    ? "" : "; its /shared.txt read \(ProbeOutput.excerpt(upperShared))")
                + (inside ? "" : " (\(ran("first")))")
        }

        // The deleted file: gone inside, a whiteout in UPPER, still in the base layer.
        let upperDoomed = value("upper_doomed")
        let whiteoutSeen: String
        if upperDoomed == whiteoutStat && value("first_doomed") == "absent" {
            whiteoutSeen = "/doomed was gone inside, and UPPER/doomed is a whiteout (a character device 0:0)"
        } else if !inside {
            whiteoutSeen = "the command did not report from inside (\(ran("first")))"
        } else if value("first_doomed") != "absent" {
            whiteoutSeen = "rm /doomed left it in the command's view (rm exited with \(value("first_removed")))"
        } else {
            whiteoutSeen = "UPPER/doomed is " + (upperDoomed.isEmpty ? "missing" : upperDoomed)
        }

        // The layers: byte for byte as the driver made them, and a second run on a fresh upper
        // sees none of the first run's changes.
        let changed = ["base", "app"].filter { value("lower_\($0)") != "same" }
        let secondRan = v["second_layer"] != nil
        let secondClean = value("second_written").isEmpty && value("second_doomed") == "present"
        let untouchedSeen: String
        if !changed.isEmpty {
            var details: [String] = []
            if !value("lower_written").isEmpty { details.append("/written is in \(value("lower_written"))") }
            if value("lower_doomed") == "absent" { details.append("/doomed is gone from the base layer") }
            if value("lower_shared") != "original|" {
                details.append("the top layer's /shared.txt reads \(ProbeOutput.excerpt(value("lower_shared")))")
            }
            untouchedSeen =
                "the \(changed.joined(separator: " and ")) layer changed"
                + (details.isEmpty ? "" : ": " + details.joined(separator: "; "))
        } else if !secondRan {
            untouchedSeen = "the second run did not report from inside (\(ran("second")))"
        } else if !secondClean {
            untouchedSeen =
                "the second run, on a new UPPER, saw /written \(ProbeOutput.excerpt(value("second_written"))) and "
                + "/doomed \(value("second_doomed"))"
        } else {
            untouchedSeen = "both layers are as they were, and the second run saw neither /written nor a whiteout"
        }

        // What the runtime left in the grader's mount namespace and process table.
        let untidy = ["first", "second"].first { run in
            value("\(run)_hung") == "yes" || !value("\(run)_leftmounts").isEmpty || !value("\(run)_leftprocs").isEmpty
        }
        let cleanSeen: String
        switch untidy {
        case nil:
            cleanSeen =
                inside
                ? "nothing was left mounted or running after either run" : "the command did not run (\(ran("first")))"
        case let run?:
            if value("\(run)_hung") == "yes" {
                cleanSeen = "the \(run) run: \(ran(run))"
            } else {
                let mounts = value("\(run)_leftmounts"), procs = value("\(run)_leftprocs")
                cleanSeen =
                    "after the \(run) run, "
                    + (mounts.isEmpty ? "" : "still mounted in the runtime's namespace: \(mounts)")
                    + (mounts.isEmpty || procs.isEmpty ? "" : "; ")
                    + (procs.isEmpty ? "" : "still running: \(procs)")
            }
        }

        return [
            CheckOutcome(
                "layer-order", passed: ordered,
                expected:
                    "with --layer BASE --layer APP, the command sees both layers' files, and APP's /layer over BASE's",
                seen: orderSeen),
            CheckOutcome(
                "overlay-root", passed: rootType == "overlay",
                expected: "the command's root is an overlay mount (the merged view in ROOTFS, then pivot_root)",
                seen: rootSeen),
            CheckOutcome(
                "writes-in-upper", passed: upperWritten == request.written && upperShared == sharedWanted,
                expected:
                    "a file written inside lands in UPPER, and a layer's file changed inside is copied up there whole",
                seen: writesSeen),
            CheckOutcome(
                "whiteout", passed: upperDoomed == whiteoutStat && value("first_doomed") == "absent",
                expected: "a layer's file removed inside is gone from the view, and UPPER holds its whiteout",
                seen: whiteoutSeen),
            CheckOutcome(
                "layers-untouched", passed: changed.isEmpty && secondRan && secondClean,
                expected:
                    "every layer is left as it was, so that a second run on a new UPPER starts from the same files",
                seen: untouchedSeen),
            CheckOutcome(
                "cleaned-up", passed: untidy == nil && inside,
                expected:
                    "after each run the runtime exits by itself, nothing it mounted is left in its mount namespace "
                    + "and no process of the container runs",
                seen: cleanSeen)
        ]
    }
}
