import Foundation

/// B.4, the OCI bundle: the student's runtime taken through runc's lifecycle (create, state,
/// start, kill, delete) by the grader's driver, judged from the runtime-spec's MUSTs and from
/// what the program reported from inside. Pure: the driver reports, this decides.
extension Evaluation {
    /// What the grader's config.json asks for, so that what was seen can be compared with it.
    public struct BundleRequest: Sendable {
        /// The container's ID, the bundle as an absolute path (create is given it relative).
        public var id: String
        public var bundle: String
        public var hostname: String
        /// LAB_TOKEN in process.env, and the line of the host's file the bind shows.
        public var token: String
        public var cwd: String
        /// process.args after the program: two arguments, the second with a space in it.
        public var arguments: [String]
        /// process.capabilities' bounding, effective and permitted sets.
        public var capabilities: [String]
        /// RLIMIT_NOFILE's soft and hard limits.
        public var openFiles: (soft: Int, hard: Int)
        /// The tmpfs's size option as the kernel shows it in mountinfo (size=2m is 2048k).
        public var tmpfsSize: String

        public init(
            id: String, bundle: String, hostname: String, token: String, cwd: String, arguments: [String],
            capabilities: [String], openFiles: (soft: Int, hard: Int), tmpfsSize: String
        ) {
            self.id = id
            self.bundle = bundle
            self.hostname = hostname
            self.token = token
            self.cwd = cwd
            self.arguments = arguments
            self.capabilities = capabilities
            self.openFiles = openFiles
            self.tmpfsSize = tmpfsSize
        }
    }

    public static let bundleChecks = [
        "create-waits", "start-runs", "state", "process", "hostname", "namespaces", "mounts",
        "kill", "delete", "refusals", "rlimits", "capabilities"
    ]

    /// `runtime state ID` as the driver caught it, one line: nil when it printed no JSON object.
    struct StateReport {
        var fields: [String: Any]

        init?(_ text: String?) {
            guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else { return nil }
            fields = object
        }
        var status: String? { fields["status"] as? String }
        var pid: Int? { (fields["pid"] as? NSNumber).map(\.intValue) }

        /// What is wrong with it at a step where `status` was due, or nil. `processes`: the
        /// PIDs the driver found in the container's namespaces (the pid is checked against them
        /// while the process should live).
        func problem(status expected: String, request: BundleRequest, processes: [String]) -> String? {
            if (fields["ociVersion"] as? String ?? "").isEmpty { return "no ociVersion" }
            if fields["id"] as? String != request.id {
                return "id is \(fields["id"].map { "\($0)" } ?? "missing"), not \(request.id)"
            }
            if status != expected { return "status is \(status ?? "missing") where it should be \(expected)" }
            if fields["bundle"] as? String != request.bundle {
                return
                    "bundle is \(fields["bundle"].map { "\($0)" } ?? "missing"), not the absolute path \(request.bundle)"
            }
            guard expected != "stopped" else { return nil }
            guard let pid else { return "no pid while \(expected) (the spec requires it then)" }
            if !processes.contains(String(pid)) {
                return
                    "pid \(pid) is not the container's process (\(processes.isEmpty ? "none was found" : "found: " + processes.joined(separator: " ")))"
            }
            return nil
        }
    }

    /// B.4, judged from the driver's report: each lifecycle step's exit status and what the
    /// runtime said, the states it printed, the processes found in new namespaces at each step,
    /// and the program's own report from inside (arguments, environment, `contlab inspect`,
    /// mountinfo, limits).
    public static func buildBundle(probe: ProbeOutput, request: BundleRequest) -> [CheckOutcome] {
        let (built, said) = buildOutcome(probe)
        guard built else { return notBuilt(bundleChecks, said: said) }
        let v = probe.values
        func value(_ key: String) -> String { (v[key] ?? "").trimmingCharacters(in: .whitespaces) }
        func processes(_ key: String) -> [String] { value(key).split(separator: " ").map(String.init) }
        func step(_ name: String) -> String {
            let status = value("\(name)_status")
            let words = value("\(name)_said")
            return "\(name) exited with \(status.isEmpty ? "?" : status)"
                + (words.isEmpty ? "" : ", saying \(ProbeOutput.excerpt(words, limit: 100))")
        }
        let created = value("create_status") == "0"
        let started = value("start_status") == "0" && value("started") == "yes"

        // create: the process exists, in the container's namespaces, and has not run the program.
        let waiting = processes("create_procs")
        let createSeen: String
        if !created {
            createSeen = step("create")
        } else if value("create_started") != "no" {
            createSeen = "the program had already run half a second after create returned (it wrote its marker)"
        } else if waiting.isEmpty {
            createSeen = "no process of the container was found after create"
        } else {
            createSeen =
                "the container's process waited (pid \(waiting.joined(separator: " "))), its program not yet run"
        }

        // state, at each step.
        let stateSteps: [(label: String, key: String, status: String, procs: String)] = [
            ("after create", "state_created", "created", "create_procs"),
            ("after start", "state_running", "running", "running_procs"),
            ("after kill", "state_stopped", "stopped", "stopped_procs")
        ]
        var stateSeen =
            "created, running and stopped at the right steps, with the container's pid and the bundle's absolute path"
        var stateOK = created && started
        if !stateOK { stateSeen = created ? step("start") : step("create") }
        for entry in stateSteps where stateOK {
            guard let report = StateReport(v[entry.key]) else {
                stateOK = false
                let text = value(entry.key)
                stateSeen =
                    "\(entry.label), state printed "
                    + (text.isEmpty ? "nothing" : "no JSON object: \(ProbeOutput.excerpt(text, limit: 100))")
                break
            }
            if let problem = report.problem(status: entry.status, request: request, processes: processes(entry.procs)) {
                stateOK = false
                stateSeen = "\(entry.label): \(problem)"
            }
        }

        // The program's report from inside.
        let reported = value("args").isEmpty ? nil : value("args")
        let wantArgs = request.arguments.joined(separator: "|")
        let envToken = v["env_LAB_TOKEN"]
        let leaked = v.keys.filter { $0 == "env_OUTSIDE_ONLY" }
        let cwd = value("cwd")
        var processSeen: String
        var processOK = false
        if reported == nil {
            processSeen =
                started
                ? "the program wrote no report (\(step("create")); \(step("start")))"
                : (created ? step("start") : step("create"))
        } else if reported != wantArgs {
            processSeen = "its arguments were \(ProbeOutput.excerpt(reported!, limit: 80)), not \(wantArgs)"
        } else if envToken != request.token {
            processSeen =
                envToken == nil ? "LAB_TOKEN from process.env was not in its environment" : "LAB_TOKEN was \(envToken!)"
        } else if !leaked.isEmpty {
            processSeen = "its environment held the runtime's own OUTSIDE_ONLY: only process.env belongs there"
        } else if cwd != request.cwd {
            processSeen = "its working directory was \(cwd.isEmpty ? "unknown" : cwd), not \(request.cwd)"
        } else {
            processOK = true
            processSeen = "arguments, environment and working directory as config.json says"
        }

        let inside = value("hostname")
        let outside = value("outside")
        let hostnameOK = inside == request.hostname && outside != request.hostname
        let hostnameSeen =
            reported == nil
            ? processSeen : "inside \(inside.isEmpty ? "unknown" : inside), the runtime's own \(outside)"

        // Namespaces: the listed ones new, network and cgroup (not listed) the runtime's own.
        var namespaceSeen: String
        var namespacesOK = false
        if let report = probe.inspect {
            func differs(_ kind: String) -> Bool? { report.namespaces.first { $0.kind == kind }?.differsFromHost }
            let listed = ["pid", "mnt", "uts", "ipc"]
            let shared = listed.filter { differs($0) != true }
            let unlisted = ["net", "cgroup"].filter { differs($0) == true }
            namespacesOK = shared.isEmpty && unlisted.isEmpty
            namespaceSeen =
                namespacesOK
                ? "pid, mount, uts and ipc new; network and cgroup the runtime's"
                : (shared.isEmpty
                    ? ""
                    : "shared with the runtime though listed: " + shared.joined(separator: ", ")
                        + (unlisted.isEmpty ? "" : "; "))
                    + (unlisted.isEmpty ? "" : "new though not listed: " + unlisted.joined(separator: ", "))
        } else {
            namespaceSeen =
                reported == nil
                ? processSeen
                : "contlab inspect did not report from inside (is /usr/local/bin/contlab still mounted in the root?)"
        }

        // Mounts: proc, the tmpfs with its flag and its data option, the bind both ways.
        var mountsSeen: String
        var mountsOK = false
        if reported == nil {
            mountsSeen = processSeen
        } else {
            let table = probe.mountinfo.map { $0.split(separator: " ").map(String.init) }
            func entry(_ point: String) -> [String]? { table.last { $0.count > 4 && $0[4] == point } }
            func type(_ fields: [String]) -> String? {
                fields.firstIndex(of: "-").flatMap { $0 + 1 < fields.count ? fields[$0 + 1] : nil }
            }
            func superOptions(_ fields: [String]) -> [String] {
                fields.firstIndex(of: "-").flatMap {
                    $0 + 3 < fields.count ? fields[$0 + 3].split(separator: ",").map(String.init) : nil
                } ?? []
            }
            let proc = entry("/proc")
            let scratch = entry("/scratch")
            let data = value("data")
            let back = value("back")
            if proc.flatMap(type) != "proc" {
                mountsSeen = "no proc at /proc"
            } else if scratch.flatMap(type) != "tmpfs" {
                mountsSeen = "no tmpfs at /scratch" + (scratch.flatMap(type).map { " (a \($0) is there)" } ?? "")
            } else if !(scratch![5].split(separator: ",").contains("nosuid")) {
                mountsSeen = "the tmpfs at /scratch is mounted \(scratch![5]): the nosuid option was not a flag"
            } else if !superOptions(scratch!).contains("size=\(request.tmpfsSize)") {
                mountsSeen =
                    "the tmpfs at /scratch has \(superOptions(scratch!).joined(separator: ",")): size=2m was not passed as data"
            } else if data != request.token {
                mountsSeen =
                    "/data/hello read \(data.isEmpty ? "nothing" : ProbeOutput.excerpt(data, limit: 60)): the bind of the runtime's folder is not there"
            } else if back != request.token {
                mountsSeen = "what the program wrote in /data did not reach the runtime's folder"
            } else {
                mountsOK = true
                mountsSeen =
                    "proc at /proc, tmpfs at /scratch (nosuid, size=\(request.tmpfsSize)), and the bind at /data both "
                    + "ways"
            }
        }

        // kill: the signal arrives (the trap writes its file) and the process ends.
        let killOK =
            started && value("kill_status") == "0" && value("trapped") == "yes" && processes("stopped_procs").isEmpty
        let killSeen =
            !started
            ? (created ? step("start") : step("create"))
            : value("kill_status") != "0"
                ? step("kill")
                : value("trapped") != "yes"
                    ? "kill exited 0, but the program's trap for TERM never ran"
                    : processes("stopped_procs").isEmpty
                        ? "the trap ran and the process ended"
                        : "the trap ran, but processes were still there: \(value("stopped_procs"))"

        // delete of the stopped container: gone from state and from ROOT, and nothing runs.
        let left = value("gone_left").split(separator: " ").filter { $0 == Substring(request.id) }
        let deleteOK =
            killOK && value("delete_status") == "0" && value("gone_state") != "0" && left.isEmpty
            && processes("left_procs").isEmpty
        let deleteSeen =
            !killOK
            ? "the container was never stopped by kill, so delete was not tried on a stopped one"
            : value("delete_status") != "0"
                ? step("delete")
                : value("gone_state") == "0"
                    ? "state \(request.id) still answered after delete"
                    : !left.isEmpty
                        ? "ROOT/\(request.id) was still there after delete"
                        : !processes("left_procs").isEmpty
                            ? "processes of the container were left: \(value("left_procs"))"
                            : "its state gone, no process left"

        // Refusals: each wrong command exits non-zero and leaves the running container running.
        var refusalSeen: String
        var refusalsOK = false
        let refusals = [
            ("create of an ID in use", "refuse_create"), ("a second start", "refuse_start"),
            ("start of an unknown ID", "refuse_unknown"), ("delete of a running container", "refuse_delete")
        ]
        if !started {
            refusalSeen =
                "the container never ran, so nothing was refused of a running one (\(created ? step("start") : step("create")))"
        } else if value("second_status") != "0 0" {
            refusalSeen = "a second container (bundle2) did not create and start: statuses \(value("second_status"))"
        } else if let accepted = refusals.first(where: { value($0.1) == "0" || value($0.1).isEmpty }) {
            refusalSeen =
                "\(accepted.0) exited with \(value(accepted.1).isEmpty ? "?" : value(accepted.1)), where the spec requires an error"
        } else if StateReport(v["refused_state"])?.status != "running" || processes("refused_procs").isEmpty {
            refusalSeen =
                "after the refused create and start, the container was no longer running (state: \(ProbeOutput.excerpt(value("refused_state"), limit: 80)))"
        } else if StateReport(v["second_state"])?.status != "running" || processes("second_procs").isEmpty {
            refusalSeen =
                "after the refused delete, the running container was not as it was (state: \(ProbeOutput.excerpt(value("second_state"), limit: 80)))"
        } else {
            refusalsOK = true
            refusalSeen = "each exited non-zero, and the running container stayed running"
        }

        // The optional two: from /proc/self/limits and from inspect's capability sets.
        let limits = value("nofile").split(separator: " ").compactMap { Int($0) }
        let rlimitsOK = limits == [request.openFiles.soft, request.openFiles.hard]
        let rlimitsSeen =
            reported == nil
            ? processSeen
            : "Max open files: "
                + (limits.isEmpty ? "unknown" : limits.map(String.init).joined(separator: " (soft), ") + " (hard)")
        let caps = probe.inspect?.capabilities
        let wanted = Set(request.capabilities)
        let capsOK = caps.map { Set($0.bounding) == wanted && Set($0.effective) == wanted } ?? false
        let capsSeen =
            caps.map {
                "bounding \($0.bounding.count) (\($0.bounding.prefix(5).joined(separator: ", "))\($0.bounding.count > 5 ? "…" : "")), effective \($0.effective.count)"
            }
            ?? (reported == nil ? processSeen : "contlab inspect did not report the sets")

        let program =
            "/bin/sh /probe.sh " + request.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        return [
            CheckOutcome(
                "create-waits", passed: created && value("create_started") == "no" && !waiting.isEmpty,
                expected:
                    "runtime create --bundle BUNDLE \(request.id) exits 0, leaving the container process waiting, the "
                    + "program not run",
                seen: createSeen),
            CheckOutcome(
                "start-runs", passed: started,
                expected: "runtime start \(request.id) exits 0, and the program (\(program)) runs",
                seen: started
                    ? "it ran"
                    : (created
                        ? step("start") + (value("start_status") == "0" ? ", but the program never reported" : "")
                        : step("create"))),
            CheckOutcome(
                "state", passed: stateOK,
                expected:
                    "state \(request.id) prints ociVersion, id, status (created, running, stopped at each step), pid "
                    + "(the container's process) and bundle \(request.bundle)",
                seen: stateSeen),
            CheckOutcome(
                "process", passed: processOK,
                expected:
                    "arguments \(wantArgs), LAB_TOKEN=\(request.token) and nothing of the runtime's environment, "
                    + "working directory \(request.cwd)",
                seen: processSeen),
            CheckOutcome(
                "hostname", passed: hostnameOK,
                expected: "hostname \(request.hostname) inside, the runtime's own outside", seen: hostnameSeen),
            CheckOutcome(
                "namespaces", passed: namespacesOK,
                expected:
                    "new pid, mount, uts and ipc namespaces (listed); network and cgroup (not listed) the runtime's own",
                seen: namespaceSeen),
            CheckOutcome(
                "mounts", passed: mountsOK,
                expected:
                    "proc at /proc, tmpfs at /scratch with nosuid and size=2m, /tmp/share bound at /data (read and "
                    + "written)",
                seen: mountsSeen),
            CheckOutcome(
                "kill", passed: killOK,
                expected: "kill \(request.id) TERM exits 0, the program's trap runs, the process ends", seen: killSeen),
            CheckOutcome(
                "delete", passed: deleteOK,
                expected:
                    "delete \(request.id) of the stopped container exits 0; then state \(request.id) fails, "
                    + "ROOT/\(request.id) is gone, no process is left",
                seen: deleteSeen),
            CheckOutcome(
                "refusals", passed: refusalsOK,
                expected:
                    "create of an ID in use, a second start, start of an unknown ID and delete of a running container "
                    + "each exit non-zero and change nothing",
                seen: refusalSeen),
            CheckOutcome(
                "rlimits", passed: rlimitsOK,
                expected:
                    "(optional) RLIMIT_NOFILE soft \(request.openFiles.soft), hard \(request.openFiles.hard) in the "
                    + "program",
                seen: rlimitsSeen),
            CheckOutcome(
                "capabilities", passed: capsOK,
                expected:
                    "(optional) bounding and effective sets exactly \(request.capabilities.joined(separator: ", "))",
                seen: capsSeen)
        ]
    }
}
