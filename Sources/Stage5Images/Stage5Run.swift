import Cgroups
import ContlabCore
import Foundation
import Images
import OCI
import Stage4OCI

/// `contlab run --stage 5`: a container from an image. The layers, unpacked once, are stacked
/// read-only by overlayfs under the container's own upper directory; the merged tree is the
/// root of a stage-4 OCI container. The mount is the host's, made before the runtime starts,
/// as containerd mounts a snapshot before it calls runc.
public struct Stage5Run {
    public var id: String
    public var image: ImageReference
    public var command: [String] = []
    public var env: [String] = []
    public var user: String?
    public var workingDir: String?
    /// Remove the container (its upper directory) after it exits.
    public var remove = false
    /// Bind this binary read-only at /usr/local/bin/contlab when the image has that placeholder.
    public var contlabBinary: String?
    /// Have the init record its system calls (for --explain).
    public var record = false
    /// Memory, pids and CPU limits for the container's cgroup (linux.resources).
    public var limits = CgroupLimits()

    public init(id: String, image: ImageReference) {
        self.id = id
        self.image = image
    }

    public static func newID() -> String { "c" + String(format: "%08x", UInt32.random(in: 0...UInt32.max)) }

    /// Run the container to its end; returns the exit code (128+N for signal N). `onCalls` gets
    /// the init's record of system calls (the overlay mount is among them).
    public func run(
        containers: ContainerStore = .standard(), stateRoot: String? = nil,
        onCalls: ([String]) -> Void = { _ in }
    ) throws -> Int32 {
        Timing.mark("stage 5 run")
        let rootless = geteuid() != 0
        let stored = try containers.images.image(image)
        Timing.mark("image loaded")
        let container = try Interruption.deferring { try containers.create(id: id, image: stored, rootless: rootless) }
        Timing.mark("container directories made")
        defer {
            if remove { try? removeTree(containers.path(id)) }
            Timing.mark("container removed")
        }
        do {
            let overlay = containers.overlay(container)
            let users = UserDatabase(
                passwd: containers.readFromLayers(container, "etc/passwd") ?? "",
                group: containers.readFromLayers(container, "etc/group") ?? "")
            var spec = try RuntimeConfig.make(
                image: stored, users: users, rootless: rootless, command: command, env: env,
                user: user, workingDir: workingDir)
            // The overlay is the first mount the init makes, onto the (empty) root directory, in
            // the container's own mount namespace: it goes away with the container however that
            // ends, and in a user namespace it is allowed without root (Linux 5.11).
            spec.root = Spec.Root(path: overlay.target, readonly: false)
            spec.mounts =
                [Spec.Mount(destination: "/", type: "overlay", source: "overlay", options: try overlay.optionList())]
                + (spec.mounts ?? [])
            spec.hostname = id
            if !limits.isEmpty {
                let resources = Self.resources(limits, keeping: spec.linux?.resources)
                spec.linux?.resources = resources
            }
            if let contlabBinary, containers.existsInLayers(container, "usr/local/bin/contlab") {
                spec.mounts?.append(
                    Spec.Mount(
                        destination: "/usr/local/bin/contlab", type: "bind", source: contlabBinary,
                        options: ["bind", "ro"]))
            }
            try Sys.replaceFile(containers.bundle(id) + "/config.json", [UInt8](try DefaultSpec.encode(spec)))
        } catch {
            if !remove { try? removeTree(containers.path(id)) }
            throw error
        }
        var runtime = OCIRuntime(store: StateStore(root: stateRoot ?? Self.stateRoot(containers)))
        runtime.record = record
        // A record left by a run that was killed (SIGKILL leaves no chance to clean up) would
        // block this id; a stopped one is removed, a running one is left to refuse the create.
        let runtimeID = Self.runtimeID(id, containers)
        try? runtime.delete(id: runtimeID, force: false)
        do {
            return try runtime.run(.init(id: runtimeID, bundle: containers.bundle(id)), detach: false) { created in
                onCalls(created.calls)
            }
        } catch let error where rootless && "\(error)".contains("overlay on /") {
            var name = utsname()
            uname(&name)
            let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw ImageError.unsupported(
                "\(error)\nwithout root, overlayfs is mounted inside the container's user namespace, which Linux "
                    + "allows from 5.11 (this kernel is \(release)) and some distributions turn off; run stage 5 as "
                    + "root, or use contlab image unpack and contlab runc run"
            )
        }
    }

    /// The stage-4 runtime's id (and cgroup name) for container `id` of this store: the same
    /// name in two stores (two users, two gradings at once) must be two containers.
    public static func runtimeID(_ id: String, _ containers: ContainerStore) -> String {
        var hash = SHA256()
        hash.update(containers.directory)
        return "stage5-" + hash.finalize().prefix(4).map { String(format: "%02x", $0) }.joined() + "-" + id
    }

    /// linux.resources from `limits`, keeping the config's device rules.
    static func resources(_ limits: CgroupLimits, keeping old: Spec.Resources?) -> Spec.Resources {
        var resources = old ?? Spec.Resources()
        if let bytes = limits.memoryBytes {
            resources.memory = Spec.Memory(limit: Int64(clamping: bytes), swap: Int64(clamping: bytes))
        }
        if let pids = limits.pids { resources.pids = Spec.Pids(limit: Int64(pids)) }
        if let cpus = limits.cpus {
            resources.cpu = Spec.CPU(
                quota: Int64(cpus * Double(CgroupLimits.cpuPeriod)), period: UInt64(CgroupLimits.cpuPeriod))
        }
        return resources
    }

    /// Where the stage-4 runtime keeps these containers' state: /run for root, the user's runtime
    /// directory without root, else beside the containers.
    public static func stateRoot(_ containers: ContainerStore) -> String {
        if geteuid() == 0 { return "/run/contlab-stage5" }
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            return runtime + "/contlab-stage5"
        }
        return containers.directory + "/.state"
    }

    /// `contlab container rm`: the runtime's record too, not only the directories.
    public static func remove(id: String, force: Bool = false, containers: ContainerStore = .standard()) throws {
        if !containers.broken().contains(id) { _ = try containers.load(id) }
        let runtime = OCIRuntime(store: StateStore(root: stateRoot(containers)))
        let runtimeID = runtimeID(id, containers)
        if !force, let state = try? runtime.state(id: runtimeID), state.status == "running" || state.status == "paused"
        {
            throw ImageError.container(
                "container \(id) is running (pid \(state.pid ?? 0)): end it first, or contlab container rm "
                    + "--force \(id)"
            )
        }
        try? runtime.delete(id: runtimeID, force: true)
        try containers.remove(id)
    }
}
