import ContlabCore
import Foundation
import OCI

/// What an image runs, as `image build` takes it on the command line.
public struct RunSettings: Equatable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var env: [String] = []
    public var workingDir: String?
    public var user: String?
    public var labels: [String: String] = [:]
    public init() {}
}

/// Makes layers and images: from a directory tree, from a tree on top of a base image, and
/// from a container's overlay upper directory (`commit`).
public struct ImageBuilder {
    public let store: ImageStore
    public var now: () -> String = { Timestamp.rfc3339() }

    public init(store: ImageStore) { self.store = store }

    /// Tar and gzip entries as one layer; returns the blob and its diff_id. The blob is stored
    /// by `save`, under the store's lock together with the name that refers to it: stored any
    /// earlier, an `image rm` running at the same moment collects it as garbage (four walk-
    /// throughs at once commit the same layer, and one removes its images while another names it).
    public func makeLayer(_ entries: [TarEntry]) throws -> (bytes: [UInt8], diffID: Digest) {
        var writer = TarWriter()
        entries.forEach { writer.append($0) }
        let tar = writer.finish()
        return (try Gzip.compress(tar), Digest.of(tar))
    }

    /// A new image of `tree` (all of it), or of what `tree` adds to or changes in `base`.
    @discardableResult
    public func build(
        tree: String, base: StoredImage?, settings: RunSettings, createdBy: String, as reference: ImageReference
    ) throws -> StoredImage {
        var entries: [TarEntry]
        if let base {
            let flat = try unpackedBase(base)
            defer { try? removeTree(flat) }
            entries = try TreeReader(source: .tree, base: flat).entries(of: tree)
        } else {
            entries = try TreeReader().entries(of: tree)
        }
        entries = entries.filter { $0.path != ".contlab-recipe" }
        let (layer, diffID) = try makeLayer(entries)
        var config =
            base?.config
            ?? ImageConfig(architecture: hostArchitecture(), os: "linux", config: nil, rootfs: .init(diff_ids: []))
        config.config = Self.merge(settings, into: config.config ?? Self.defaultExecution(base: base == nil))
        config.created = now()
        config.rootfs.diff_ids.append(diffID)
        config.history = (config.history ?? []) + [.init(created: config.created, created_by: createdBy)]
        return try store.save(reference, config: config, layers: base?.manifest.layers ?? [], adding: layer)
    }

    /// A new image: `base` plus one layer made of an overlay upper directory.
    @discardableResult
    public func commit(
        upper: String, rootless: Bool, base: StoredImage, settings: RunSettings, createdBy: String,
        as reference: ImageReference
    ) throws -> StoredImage {
        let entries = try TreeReader(source: .overlayUpper(rootless: rootless)).entries(of: upper)
        let (layer, diffID) = try makeLayer(entries)
        var config = base.config
        config.config = Self.merge(settings, into: config.config ?? ImageConfig.Execution())
        config.created = now()
        config.rootfs.diff_ids.append(diffID)
        config.history = (config.history ?? []) + [.init(created: config.created, created_by: createdBy)]
        return try store.save(reference, config: config, layers: base.manifest.layers, adding: layer)
    }

    /// A new image: `base` plus a layer made elsewhere (a tar, or a gzip'd tar, as bytes) — a
    /// layer built by hand. Its entries are checked only when it is unpacked, as any layer's are.
    @discardableResult
    public func stack(layer bytes: [UInt8], on base: StoredImage, createdBy: String, as reference: ImageReference)
        throws -> StoredImage
    {
        let tar = Gzip.isGzip(bytes) ? try Gzip.decompress(bytes) : bytes
        _ = try TarReader.entries(tar)
        let layer = try Gzip.compress(tar)
        var config = base.config
        config.created = now()
        config.rootfs.diff_ids.append(Digest.of(tar))
        config.history = (config.history ?? []) + [.init(created: config.created, created_by: createdBy)]
        return try store.save(reference, config: config, layers: base.manifest.layers, adding: layer)
    }

    func unpackedBase(_ base: StoredImage) throws -> String {
        let flat = store.directory + "/.base-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Sys.mkdir(flat, mode: 0o755)
        do {
            try Unpacker(store: store).flatten(base, into: flat)
        } catch {
            try? removeTree(flat)
            throw error
        }
        return flat
    }

    static func defaultExecution(base: Bool) -> ImageConfig.Execution {
        var execution = ImageConfig.Execution()
        execution.Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        execution.Cmd = ["/bin/sh"]
        return execution
    }

    /// Settings given on the command line replace the base's; environment variables merge by name.
    static func merge(_ settings: RunSettings, into execution: ImageConfig.Execution) -> ImageConfig.Execution {
        var result = execution
        if let entrypoint = settings.entrypoint { result.Entrypoint = entrypoint.isEmpty ? nil : entrypoint }
        if let cmd = settings.cmd { result.Cmd = cmd }
        if !settings.env.isEmpty { result.Env = Environment.merge(result.Env ?? [], settings.env) }
        if let dir = settings.workingDir { result.WorkingDir = dir }
        if let user = settings.user { result.User = user }
        if !settings.labels.isEmpty { result.Labels = (result.Labels ?? [:]).merging(settings.labels) { $1 } }
        return result
    }
}

public enum Environment {
    /// `KEY=VALUE` lists merged: a later key replaces an earlier one in place.
    public static func merge(_ base: [String], _ overrides: [String]) -> [String] {
        var result = base
        for item in overrides {
            let key = item.split(separator: "=", maxSplits: 1).first.map(String.init) ?? item
            if let index = result.firstIndex(where: {
                ($0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0) == key
            }) {
                result[index] = item
            } else {
                result.append(item)
            }
        }
        return result
    }
}

/// Lays an image's layers out as one directory and writes a bundle, as `umoci unpack` does.
public struct Unpacker {
    public let store: ImageStore
    public init(store: ImageStore) { self.store = store }

    public func flatten(_ image: StoredImage, into root: String, rootless: Bool = geteuid() != 0) throws {
        for (layer, diffID) in zip(image.manifest.layers, image.config.rootfs.diff_ids) {
            var applier = LayerApplier(root: root, mode: .flatten, layer: "\(image.reference) \(layer.digest.short)")
            applier.rootless = rootless
            try store.applyLayer(layer, diffID: diffID, image: image.reference.description, with: applier)
        }
    }

    /// BUNDLE/rootfs and BUNDLE/config.json; nothing is left behind when a layer is refused.
    public func unpack(_ image: StoredImage, bundle: String, rootless: Bool = geteuid() != 0) throws {
        try Sys.mkdirs(bundle)
        guard !Sys.exists(bundle + "/config.json"), !Sys.exists(bundle + "/rootfs") else {
            throw ImageError.container(
                "\(bundle) already holds a bundle (config.json or rootfs): remove it or give another directory")
        }
        let partial = bundle + "/.rootfs-partial"
        try removeTree(partial)
        try Sys.mkdir(partial, mode: 0o755)
        do {
            try flatten(image, into: partial, rootless: rootless)
            var spec = try RuntimeConfig.make(image: image, users: UserDatabase(rootfs: partial), rootless: rootless)
            spec.root = Spec.Root(path: "rootfs", readonly: false)
            guard rename(partial, bundle + "/rootfs") == 0 else {
                throw SystemCallError("rename(\"\(partial)\")", errno: errno)
            }
            try Sys.replaceFile(bundle + "/config.json", [UInt8](try DefaultSpec.encode(spec)))
        } catch {
            try? removeTree(partial)
            try? removeTree(bundle + "/rootfs")
            throw error
        }
    }
}

/// image-spec's "conversion to an OCI runtime configuration": what to run from the image
/// config, and the image's facts as annotations.
public enum RuntimeConfig {
    public static func make(
        image: StoredImage, users: UserDatabase, rootless: Bool, command: [String] = [], env: [String] = [],
        user: String? = nil, workingDir: String? = nil
    ) throws -> Spec {
        let execution = image.config.config ?? ImageConfig.Execution()
        var spec = DefaultSpec.make(rootless: rootless, uid: getuid(), gid: getgid())
        let args = (execution.Entrypoint ?? []) + (command.isEmpty ? (execution.Cmd ?? []) : command)
        guard !args.isEmpty else {
            throw ImageError.container(
                "image \(image.reference) has no Entrypoint or Cmd: give the command to run after --")
        }
        spec.process?.args = args
        spec.process?.terminal = false
        spec.process?.env = Environment.merge(execution.Env ?? [], env)
        spec.process?.cwd = workingDir ?? execution.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        if let name = user ?? execution.User, !name.isEmpty {
            let identity = try users.resolve(name)
            spec.process?.user = Spec.User(
                uid: identity.uid, gid: identity.gid,
                additionalGids: identity.additionalGids.isEmpty ? nil : identity.additionalGids)
        }
        spec.annotations = annotations(image.config)
        return spec
    }

    static func annotations(_ config: ImageConfig) -> [String: String] {
        var result = config.config?.Labels ?? [:]
        result["org.opencontainers.image.os"] = config.os
        result["org.opencontainers.image.architecture"] = config.architecture
        if let author = config.author { result["org.opencontainers.image.author"] = author }
        if let created = config.created { result["org.opencontainers.image.created"] = created }
        if let signal = config.config?.StopSignal { result["org.opencontainers.image.stopSignal"] = signal }
        if let ports = config.config?.ExposedPorts, !ports.isEmpty {
            result["org.opencontainers.image.exposedPorts"] = ports.keys.sorted().joined(separator: ",")
        }
        return result
    }
}
