import ContlabCore
import Foundation
import XCTest

/// A pod as Kubernetes runs it (issue #23): kubelet's CRI calls, made over gRPC to a private
/// containerd 1.6 whose CRI plugin runs the pod with contlab-runc, then with runc. A sandbox
/// (a pause-like image: one sleeping process) and an app container that joins its network, IPC,
/// UTS and PID namespaces, ExecSync in the app, then stop and remove both; then a container with a
/// terminal, whose pty comes through containerd's console socket. The client is
/// CRI/pod.py, speaking the subset of the CRI API in CRI/cri-subset.proto, compiled at test time.
final class ContainerdCRITests: XCTestCase {
    var work = ""
    var daemon: Process?
    var socket: String { work + "/containerd.sock" }
    let tag = "\(getpid())"
    /// kubelet's cgroupfs-style parent for the pod: containerd makes /<parent>/<id> under it.
    var cgroupParent: String { "/contlab-cri-\(tag)" }
    var pauseImage: String { "localhost/contlab-pause-\(tag):1" }
    var appImage: String { "localhost/contlab-app-\(tag):1" }
    var networkName: String { "contlab-lo-\(tag)" }
    let python = "/usr/bin/python3"
    static let criFolder = Harness.packageRoot.appendingPathComponent("Tests/IntegrationTests/CRI").path

    func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        XCTFail("\(name) is not installed: make setup installs it (the Makefile's PACKAGES)")
        throw XCTSkip("no \(name)")
    }

    func expectSuccess(_ argv: [String], environment: [String: String] = [:]) throws {
        let result = try Harness.execute(argv, environment: environment, timeout: 120)
        XCTAssertEqual(result.status, 0, "\(argv.joined(separator: " ")): \(result.stderr)")
        if result.status != 0 { throw XCTSkip("cannot prepare the pod's world") }
    }

    override func setUpWithError() throws {
        try Harness.requireRoot()
        let containerd = try tool("containerd"), ctr = try tool("ctr")
        let grpc = try Harness.execute([python, "-c", "import grpc, grpc_tools.protoc"])
        guard grpc.status == 0 else {
            XCTFail(
                "the CRI client needs python3-grpcio and python3-grpc-tools: make setup installs them"
                    + " (\(grpc.stderr))")
            throw XCTSkip("no grpc for Python")
        }
        work = "/tmp/contlab-cri-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
        for folder in ["cni", "logs", "gen"] {
            try FileManager.default.createDirectory(atPath: work + "/" + folder, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: work + "/contlab-runc", withDestinationPath: Harness.binary)

        // The client, compiled from the proto into this run's folder.
        try expectSuccess([
            python, "-m", "grpc_tools.protoc", "-I", Self.criFolder, "--python_out=" + work + "/gen",
            "--grpc_python_out=" + work + "/gen", Self.criFolder + "/cri-subset.proto"
        ])

        // Two images from contlab's own busybox tree, as OCI archives: no registry anywhere.
        let data = ["CONTLAB_DATA": work + "/contlab-data"]
        let tree = try Harness.busyboxRootfs()
        let commands = [("pause", ["--entrypoint", "/bin/sleep", "--cmd", "86400"]), ("app", ["--cmd", "/bin/sh"])]
        for (name, command) in commands {
            let image = "localhost/contlab-\(name)-\(tag):1"
            try expectSuccess([Harness.binary, "image", "build", "--dir", tree] + command + [image], environment: data)
            try expectSuccess([Harness.binary, "image", "export", image, work + "/\(name).tar"], environment: data)
        }

        // A pod network of loopback only. The CRI plugin runs one CNI network list for each pod
        // and wants an address for its eth0 back ("failed to find network info" otherwise), but
        // the loopback plugin reports none for it: the static IPAM plugin, run in the list after
        // it, reports lo's own 127.0.0.1, touching nothing. No bridge, veth or route on the host.
        try Data(
            """
            {"cniVersion": "0.4.0", "name": "\(networkName)", "plugins": [{"type": "loopback"},
             {"type": "static", "ipam": {"type": "static", "addresses": [{"address": "127.0.0.1/8"}]}}]}
            """.utf8
        ).write(to: URL(fileURLWithPath: work + "/cni/10-loopback.conflist"))
        try Data(containerdConfig().utf8).write(to: URL(fileURLWithPath: work + "/config.toml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: containerd)
        process.arguments = ["--config", work + "/config.toml"]
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: work + "/containerd.log", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: work + "/containerd.log"))
        try process.run()
        daemon = process
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket), "containerd did not start: \(containerdLog())")

        // The CRI plugin's images live in containerd's k8s.io namespace, under the names the
        // archives carry (org.opencontainers.image.ref.name): full names, so the CRI plugin,
        // which reads "busybox" as docker.io/library/busybox, finds them as they are written.
        let k8s = [ctr, "--address", socket, "--namespace", "k8s.io"]
        for name in ["pause", "app"] {
            try expectSuccess(k8s + ["images", "import", work + "/\(name).tar"])
        }
        let listed = try Harness.execute(k8s + ["images", "list", "--quiet"])
        for image in [pauseImage, appImage] where !listed.stdout.split(separator: "\n").contains(Substring(image)) {
            XCTFail("\(image) was not imported (containerd has \(listed.stdout)): the CRI plugin would try to pull it")
            throw XCTSkip("no local image")
        }
    }

    /// containerd's own folders, its CRI plugin's pause image, CNI folders and a runtime handler
    /// per runtime, each with its own state root: nothing is shared with the host's containerd.
    /// Pods' network namespaces are mounted under the state folder (not /run/netns), and the
    /// sandbox's oom_score_adj is kept no lower than containerd's own: the CRI plugin's -998 for
    /// a sandbox cannot be written on this machine (runc fails the sandbox on it with EACCES).
    func containerdConfig() -> String {
        let cri = #"plugins."io.containerd.grpc.v1.cri""#
        var config = """
            version = 2
            root = "\(work)/root"
            state = "\(work)/state"
            [grpc]
              address = "\(socket)"
            [plugins."io.containerd.internal.v1.opt"]
              path = "\(work)/opt"
            [\(cri)]
              sandbox_image = "\(pauseImage)"
              stream_server_address = "127.0.0.1"
              stream_server_port = "0"
              netns_mounts_under_state_dir = true
              restrict_oom_score_adj = true
            [\(cri).cni]
              bin_dir = "/usr/lib/cni"
              conf_dir = "\(work)/cni"
            [\(cri).containerd]
              default_runtime_name = "runc"

            """
        for (handler, binary) in [("contlab", work + "/contlab-runc"), ("runc", "/usr/bin/runc")] {
            config += """
                [\(cri).containerd.runtimes.\(handler)]
                  runtime_type = "io.containerd.runc.v2"
                [\(cri).containerd.runtimes.\(handler).options]
                  BinaryName = "\(binary)"
                  Root = "\(work)/runtime-root/\(handler)"

                """
        }
        return config
    }

    func containerdLog() -> String {
        String((Sys.readText(work + "/containerd.log") ?? "").suffix(3000))
    }

    override func tearDown() {
        if let daemon, daemon.isRunning {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        guard !work.isEmpty else { return }
        // pod.py removes the pod whatever failed; if it could not, stop what is left of it: the
        // processes in the pod's cgroups, the shims that served this containerd, their mounts.
        for pid in processesOfThisRun() { kill(pid, SIGKILL) }
        usleep(100_000)
        let mounts = (Sys.readText("/proc/self/mountinfo") ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").dropFirst(4).first.map(String.init) }
            .filter { $0.hasPrefix(work + "/") }
        for mount in mounts.reversed() { _ = try? Harness.execute(["/bin/umount", "--lazy", mount]) }
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            removeCgroupTree("/sys/fs/cgroup/\(hierarchy)\(cgroupParent)")
        }
        // libcni keeps each attachment's result in /var/lib/cni/results until the pod's network
        // is torn down; a pod that was not leaves its files, named after the network.
        for file in (try? FileManager.default.contentsOfDirectory(atPath: "/var/lib/cni/results")) ?? []
        where file.hasPrefix(networkName + "-") {
            unlink("/var/lib/cni/results/" + file)
        }
        try? FileManager.default.removeItem(atPath: work)
    }

    /// The shims started for this run's socket and every process in the pod's cgroups.
    func processesOfThisRun() -> [pid_t] {
        var pids: [pid_t] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let cmdline = Sys.readText("/proc/\(entry)/cmdline") else { continue }
            if cmdline.split(separator: "\0").contains(Substring(socket)) { pids.append(pid) }
        }
        let procs = Sys.readText("/sys/fs/cgroup/pids\(cgroupParent)/cgroup.procs") ?? ""
        let nested = (try? FileManager.default.subpathsOfDirectory(atPath: "/sys/fs/cgroup/pids\(cgroupParent)")) ?? []
        let inside = nested.filter { $0.hasSuffix("cgroup.procs") }
            .map { Sys.readText("/sys/fs/cgroup/pids\(cgroupParent)/\($0)") ?? "" }
        for line in ([procs] + inside).joined(separator: "\n").split(separator: "\n") {
            if let pid = pid_t(line) { pids.append(pid) }
        }
        return pids
    }

    /// A cgroup's child cgroups: its folders, not its files.
    func childCgroups(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path + "/" + $0, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
    }

    func removeCgroupTree(_ path: String) {
        for child in childCgroups(path) { removeCgroupTree(path + "/" + child) }
        rmdir(path)
    }

    struct PodReport {
        var steps: [(name: String, ok: Bool, error: String?)]
        var json: [String: Any]
        var failed: [String] { steps.filter { !$0.ok }.map { "\($0.name): \($0.error ?? "")" } }
    }

    /// The --root containerd's shim gives the handler's runtime: its own per handler, then the namespace.
    func runtimeState(_ handler: String) -> String { work + "/runtime-root/" + handler + "/k8s.io" }

    /// The pod's life through CRI with `handler`'s runtime, as pod.py reports it.
    func runPod(handler: String) throws -> PodReport {
        let name = "pod-\(handler)-\(tag)"
        let arguments = [
            work + "/gen", socket, handler, pauseImage, appImage, name, work + "/logs", cgroupParent,
            runtimeState(handler)
        ]
        let result = try Harness.execute([python, Self.criFolder + "/pod.py"] + arguments, timeout: 300)
        guard result.status == 0,
            let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else {
            XCTFail("pod.py failed: status \(result.status)\n\(result.stdout)\n\(result.stderr)")
            throw XCTSkip("no report from pod.py")
        }
        let steps = (json["steps"] as? [[String: Any]] ?? []).map {
            (name: $0["name"] as? String ?? "", ok: $0["ok"] as? Bool ?? false, error: $0["error"] as? String)
        }
        return PodReport(steps: steps, json: json)
    }

    /// Every call succeeds, in kubelet's order; the app runs in the sandbox's namespaces.
    func checkPod(handler: String) throws {
        let report = try runPod(handler: handler)
        let expected = [
            "Version", "ImageStatus", "ImageStatus", "RunPodSandbox", "PodSandboxStatus", "CreateContainer",
            "StartContainer", "ContainerStatus", "ExecSync", "StopContainer", "ContainerStatus",
            "RemoveContainer", "CreateContainer", "StartContainer", "RemoveContainer",
            "StopPodSandbox", "PodSandboxStatus", "RemovePodSandbox"
        ]
        XCTAssertEqual(report.steps.map(\.name), expected, "\(handler): the calls made")
        let passed = report.steps.filter(\.ok).count
        XCTAssertEqual(report.failed, [], "\(handler): \(passed) of \(expected.count) steps passed\n" + containerdLog())
        XCTAssertNil(report.json["cleanup_errors"], handler)
        XCTAssertEqual(report.json["sandbox_state"] as? String, "SANDBOX_READY", handler)
        XCTAssertEqual(
            report.json["runtime_state"] as? [String], report.json["ids"] as? [String],
            "\(handler): its runtime holds the sandbox and the app")
        XCTAssertEqual(report.json["app_state_started"] as? String, "CONTAINER_RUNNING", handler)
        XCTAssertEqual(report.json["app_state_stopped"] as? String, "CONTAINER_EXITED", handler)
        XCTAssertEqual(report.json["app_exit_code"] as? Int, 3, "\(handler): the app's TERM trap ran")
        XCTAssertEqual(
            report.json["app_log"] as? [String], ["stdout F app started"],
            "\(handler): the app's stdout reached containerd's log of it")
        XCTAssertEqual(report.json["tty_state"] as? String, "CONTAINER_EXITED", handler)
        XCTAssertEqual(report.json["tty_exit_code"] as? Int, 0, handler)
        XCTAssertEqual(
            report.json["tty_log"] as? [String], ["stdout F /dev/pts/0"],
            "\(handler): the process's terminal is the pty sent over the shim's console socket")
        XCTAssertEqual(report.json["sandbox_state_stopped"] as? String, "SANDBOX_NOTREADY", handler)

        // What ExecSync printed in the app, against the sandbox's process as the host sees it.
        let exec = report.json["exec"] as? [String: Any] ?? [:]
        let sandbox = report.json["sandbox"] as? [String: Any] ?? [:]
        XCTAssertEqual(exec["exit_code"] as? Int, 0, "\(handler): \(exec["stderr"] ?? "")")
        let lines = (exec["stdout"] as? String ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        guard lines.count >= 8, sandbox["mnt"] != nil else {
            return XCTFail("\(handler): ExecSync printed \(lines); the sandbox from the host: \(sandbox)")
        }
        XCTAssertEqual(lines[0], sandbox["cmdline"] as? String, "\(handler): PID 1 is the sandbox's process")
        XCTAssertEqual(lines[0], "/bin/sleep 86400 ", "\(handler): the pause image's command")
        XCTAssertEqual(lines[1], "pod-\(handler)-\(tag)", "\(handler): the pod's hostname")
        XCTAssertGreaterThan(Int(lines[2]) ?? 0, 1, "\(handler): the probe is not PID 1")
        for (offset, kind) in ["net", "ipc", "uts", "pid"].enumerated() {
            XCTAssertEqual(lines[3 + offset], sandbox[kind] as? String, "\(handler): the sandbox's \(kind) namespace")
        }
        XCTAssertNotEqual(lines[7], sandbox["mnt"] as? String, "\(handler): a mount namespace of its own")

        // Removed means gone: the runtime's state, the shims and processes, the containers' cgroups.
        let state = runtimeState(handler)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: state)) ?? [], [], "\(handler): \(state)")
        XCTAssertEqual(processesOfThisRun(), [], "\(handler): the pod's processes and shims are gone")
        XCTAssertEqual(
            childCgroups("/sys/fs/cgroup/memory" + cgroupParent), [],
            "\(handler): the containers' memory cgroups are gone")
    }

    func testAPodRunsThroughCRIWithContlabRunc() throws {
        try checkPod(handler: "contlab")
    }

    func testAPodRunsThroughCRIWithRunc() throws {
        try checkPod(handler: "runc")
    }
}
