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

    public init(id: String, image: ImageReference) {
        self.id = id
        self.image = image
    }

    public static func newID() -> String { "c" + String(format: "%08x", UInt32.random(in: 0...UInt32.max)) }

    /// Run the container to its end; returns the exit code (128+N for signal N).
    public func run(containers: ContainerStore = .standard(), stateRoot: String = "/run/contlab-stage5") throws -> Int32 {
        let rootless = geteuid() != 0
        if rootless {
            // The overlay is mounted on the host before the runtime makes the container's user
            // namespace; without root that mount is refused. (Rootless engines mount it from
            // inside the user namespace, which Linux allows since 5.11.)
            throw ImageError.unsupported("stage 5 needs root here: its overlay mount is made on the host, as containerd does for runc; run it with sudo (contlab image unpack + contlab runc run work rootless)")
        }
        let stored = try containers.images.image(image)
        Timing.mark("image loaded")
        let container = try containers.create(id: id, image: stored, rootless: rootless)
        let overlay = containers.overlay(container)
        var mounted = false
        defer {
            if mounted { OverlayMount.unmount(overlay.target) }
            Timing.mark("overlay unmounted")
            if remove { try? removeTree(containers.path(id)) }
            Timing.mark("container removed")
        }
        do {
            Timing.mark("container directories made")
            try overlay.mount()
            mounted = true
            Timing.mark("overlay mounted")
            var spec = try RuntimeConfig.make(image: stored, rootfs: overlay.target, rootless: rootless, command: command, env: env,
                                              user: user, workingDir: workingDir)
            spec.root = Spec.Root(path: overlay.target, readonly: false)
            spec.hostname = id
            if let contlabBinary, Sys.exists(overlay.target + "/usr/local/bin/contlab") {
                spec.mounts?.append(Spec.Mount(destination: "/usr/local/bin/contlab", type: "bind", source: contlabBinary, options: ["bind", "ro"]))
            }
            try Sys.replaceFile(containers.bundle(id) + "/config.json", [UInt8](try DefaultSpec.encode(spec)))
        } catch {
            if !remove { try? removeTree(containers.path(id)) }
            throw error
        }
        let runtime = OCIRuntime(store: StateStore(root: stateRoot))
        return try runtime.run(.init(id: "stage5-" + id, bundle: containers.bundle(id)), detach: false)
    }
}
