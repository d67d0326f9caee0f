import Foundation

/// The two engines a class types commands into, and how each is told to use contlab-runc.
/// Everything here is pure: paths, arguments and configuration text, tested without root.
public enum Engine: String, CaseIterable, Sendable {
    case docker, podman
}

/// The runtime name Docker knows contlab by (`docker run --runtime contlab`).
public let runtimeName = "contlab"

/// Docker 20.10 (Debian's docker.io) as the lab runs it: a private dockerd whose state lives
/// under contlab's data directory, so it neither needs nor disturbs a system Docker.
public struct DockerLab: Equatable, Sendable {
    /// `/var/lib/contlab/engines/docker`.
    public var base: String
    /// Debian's client and daemon. /usr/local/bin/docker may be a newer client from elsewhere;
    /// the lab names the packaged one so the client and the daemon always match.
    public var client = "/usr/bin/docker"
    public var daemon = "/usr/sbin/dockerd"

    public init(base: String) { self.base = base }

    public var socket: String { base + "/docker.sock" }
    public var host: String { "unix://" + socket }
    public var dataRoot: String { base + "/data" }
    /// containerd's socket ends up below this; a unix socket path must stay under 108 bytes.
    public var execRoot: String { base + "/exec" }
    public var pidFile: String { base + "/dockerd.pid" }
    public var logFile: String { base + "/dockerd.log" }
    public var image: String { "busybox" }

    /// dockerd's command line, for a private daemon that must work on any host: vfs storage
    /// (overlay is not there on every file system), no iptables, masquerading or bridge (some
    /// sandboxes give no netfilter), so containers run with `--network none`. Docker's own default seccomp profile
    /// applies.
    public func daemonArguments(runtimePath: String) -> [String] {
        [
            daemon, "--host", host, "--data-root", dataRoot, "--exec-root", execRoot, "--pidfile", pidFile,
            "--containerd-namespace", "contlab", "--containerd-plugins-namespace", "contlab-plugins",
            "--storage-driver", "vfs", "--iptables=false", "--ip-masq=false", "--bridge=none",
            "--config-file", configFile
        ]
    }

    /// contlab-runc's record of every call this daemon's containers made (`--journal`).
    public var journal: String { base + "/contlab-runc-calls.log" }
    public var configFile: String { base + "/daemon.json" }

    /// The lab daemon's daemon.json: contlab registered with `--journal`, which dockerd passes
    /// before every verb (through a small wrapper script it writes under the exec root).
    /// crun, where installed, is registered too: a peer to compare with (`--runtime crun`).
    public func daemonConfig(runtimePath: String, crunPath: String? = nil) -> String {
        let crun = crunPath.map { ",\n    \"crun\": { \"path\": \"\($0)\" }" } ?? ""
        return """
            {
              "runtimes": {
                "\(runtimeName)": { "path": "\(runtimePath)", "runtimeArgs": ["--journal", "\(journal)"] }\(crun)
              }
            }
            """
    }

    /// The client, pointed at this daemon.
    public func clientArguments(_ args: [String]) -> [String] { [client, "--host", host] + args }

    /// What registers contlab with a Docker someone already runs: the `runtimes` entry of
    /// /etc/docker/daemon.json.
    public static func daemonJSON(runtimePath: String) -> String {
        """
        {
          "runtimes": {
            "\(runtimeName)": { "path": "\(runtimePath)" }
          }
        }
        """
    }
}

/// Podman 4.3 (Debian's podman) as the lab runs it: daemonless, with its storage, run state and
/// temporary files under contlab's data directory.
public struct PodmanLab: Equatable, Sendable {
    public var base: String
    public var program = "/usr/bin/podman"

    public init(base: String) { self.base = base }

    public var image: String { "localhost/busybox" }
    /// contlab-runc's record of every call (`--journal`, passed by `--runtime-flag`).
    public var journal: String { base + "/contlab-runc-calls.log" }

    /// Global flags: contlab-runc as the runtime (by path; conmon runs it), private storage, and
    /// what this sandbox allows — the vfs driver, cgroupfs (no systemd), events to a file.
    public func globalArguments(runtimePath: String) -> [String] {
        [
            program, "--runtime", runtimePath, "--runtime-flag", "journal=" + journal, "--root", base + "/storage",
            "--runroot", base + "/run", "--tmpdir", base + "/tmp",
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"
        ]
    }

    /// Flags for `podman run`: no network (no netavark bridge here), and rlimits within the sandbox's hard limits: by
    /// default Podman raises RLIMIT_NOFILE above
    /// them, which needs CAP_SYS_RESOURCE, and this sandbox's root does not have it (runc and
    /// crun fail the same way).
    public static let runArguments = [
        "--network", "none", "--ulimit", "nofile=1024:20000", "--ulimit", "nproc=1024:1024"
    ]

    /// What registers contlab in containers.conf (/etc/containers/containers.conf, or
    /// ~/.config/containers/containers.conf), so that `podman --runtime contlab` finds it.
    public static func containersConf(runtimePath: String) -> String {
        """
        [engine.runtimes]
        \(runtimeName) = ["\(runtimePath)"]
        """
    }
}

/// Where the private engines keep their state: `<data>/engines/docker` and `.../podman`.
public struct EngineDirectories: Equatable, Sendable {
    public var data: String
    public init(data: String) { self.data = data }
    public var docker: DockerLab { DockerLab(base: data + "/engines/docker") }
    public var podman: PodmanLab { PodmanLab(base: data + "/engines/podman") }
}

/// The runtime's journal made readable on a screen: without timestamps and the journal flag,
/// the lab's directory as `$LAB`, and 64-digit container ids cut to Docker's 12.
public enum JournalView {
    public static func condense(_ text: String, lab: String) -> String {
        var out: [String] = []
        for var line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let space = line.firstIndex(of: " "), line.first?.isNumber == true {
                line = String(line[line.index(after: space)...])
            }
            if let range = line.range(of: #"--journal(=| )\S+ "#, options: .regularExpression) {
                line.removeSubrange(range)
            }
            line = line.replacingOccurrences(of: lab, with: "$LAB")
            line = line.replacingOccurrences(
                of: #"([0-9a-f]{12})[0-9a-f]{52}"#, with: "$1…", options: .regularExpression)
            out.append(line)
        }
        return out.joined(separator: "\n")
    }
}
