import ContlabCore
import Foundation

/// Makes a tree from a recipe, offline, from what Debian packages installed on the host.
struct RootfsBuilder {
    let recipe: Recipe
    let tree: String
    let progress: (String) -> Void

    func build() throws {
        try FileManager.default.createDirectory(
            atPath: tree, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        if let debootstrap = recipe.debootstrap { try runDebootstrap(debootstrap) }
        for entry in recipe.directories ?? [] {
            let (path, mode) = Recipe.splitDirectory(entry)
            try makeDirectory(path, mode: mode ?? 0o755)
        }
        for package in recipe.packages ?? [] {
            _ = try Self.installedVersion(package.name, recipe: recipe.name)
            progress("copying \(package.files.joined(separator: ", ")) from package \(package.name)")
            for file in package.files {
                guard Sys.exists(file) else {
                    throw RecipeError.packageFileMissing(recipe: recipe.name, package: package.name, file: file)
                }
                try copyFromHost(file, to: file)
            }
        }
        if let busybox = recipe.busyboxApplets { try linkApplets(busybox) }
        for binary in recipe.hostBinaries ?? [] { try copyHostBinary(binary) }
        for (path, content) in (recipe.files ?? [:]).sorted(by: { $0.key < $1.key }) {
            try makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
            try Data(content.utf8).write(to: URL(fileURLWithPath: tree + path))
        }
        for (path, target) in (recipe.symlinks ?? [:]).sorted(by: { $0.key < $1.key }) {
            try makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
            try? FileManager.default.removeItem(atPath: tree + path)
            try Sys.symlink(target: target, at: tree + path)
        }
    }

    /// The installed version of a Debian package, or the error that says to install it.
    static func installedVersion(_ package: String, recipe: String) throws -> String {
        let result = try HostCommand.run(["dpkg-query", "-W", "-f", "${Status}|${Version}", package])
        let fields = result.output.split(separator: "|")
        guard result.succeeded, fields.count == 2, fields[0].hasSuffix("installed") else {
            throw RecipeError.packageMissing(recipe: recipe, package: package)
        }
        return String(fields[1])
    }

    func makeDirectory(_ path: String, mode: mode_t) throws {
        guard !path.isEmpty, path != "/" else { return }
        let full = tree + path
        if !Sys.isDirectory(full) {
            try FileManager.default.createDirectory(
                atPath: full, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        }
        chmod(full, mode)
    }

    /// Copy a host file's content (following symlinks) to the same place in the tree, keeping its mode.
    func copyFromHost(_ source: String, to path: String) throws {
        try makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
        let destination = tree + path
        try? FileManager.default.removeItem(atPath: destination)
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        try data.write(to: URL(fileURLWithPath: destination))
        var st = stat()
        if stat(source, &st) == 0 { chmod(destination, st.st_mode & 0o7777) }
    }

    /// Links for every applet, like `busybox --install -s`, but made by us so the binary's own
    /// idea of paths does not matter: `busybox --list-full` names where each applet lives.
    func linkApplets(_ busybox: String) throws {
        let result = try HostCommand.run([tree + busybox, "--list-full"])
        guard result.succeeded else { throw RecipeError.toolFailed("\(busybox) --list-full", result.output) }
        var count = 0
        for applet in result.output.split(separator: "\n") {
            let path = "/" + applet
            guard Recipe.isInsideTree(path), path != busybox, !Sys.exists(tree + path) else { continue }
            try makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
            try Sys.symlink(target: busybox, at: tree + path)
            count += 1
        }
        progress("linked \(count) busybox applets to \(busybox)")
    }

    /// A dynamically linked host program with the libraries and loader that ldd says it loads.
    func copyHostBinary(_ binary: String) throws {
        guard Sys.exists(binary) else { throw RecipeError.hostBinaryMissing(recipe: recipe.name, path: binary) }
        try copyFromHost(binary, to: binary)
        let ldd = try HostCommand.run(["ldd", binary])
        let libraries = ldd.succeeded ? sharedLibraries(fromLddOutput: ldd.output) : []
        for library in libraries { try copyFromHost(library, to: library) }
        progress("copied \(binary) and \(libraries.count) shared libraries")
    }

    func runDebootstrap(_ spec: Recipe.Debootstrap) throws {
        guard HostCommand.exists("debootstrap") else {
            throw RecipeError.packageMissing(recipe: recipe.name, package: "debootstrap")
        }
        var args = ["debootstrap", "--variant=\(spec.variant ?? "minbase")"]
        if let include = spec.include, !include.isEmpty { args.append("--include=\(include.joined(separator: ","))") }
        args += [spec.suite, tree]
        if let mirror = spec.mirror { args.append(mirror) }
        progress("running \(args.joined(separator: " ")) (several minutes; its progress follows)")
        let result = try HostCommand.run(args, passThrough: true)
        guard result.succeeded else { throw RecipeError.toolFailed("debootstrap", "exit status \(result.status)") }
    }
}
