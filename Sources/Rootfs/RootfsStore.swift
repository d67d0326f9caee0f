import ContlabCore
import Foundation

/// The built root filesystems: `<data>/rootfs/<name>/<key>/` where key is a hash of the recipe
/// and of what it took from the host (package versions, binaries). `rootfs build` rebuilds only
/// when that key changes; a build happens in a temporary directory renamed into place at the
/// end, so an interrupted build leaves nothing that looks built. `<name>/current` names the
/// built key and the hash of the recipe text it came from, so that starting a container checks
/// the recipe without asking dpkg (tens of milliseconds) on every run.
public struct RootfsStore {
    public let recipesDirectory: URL
    public let dataDirectory: URL
    /// Another store to read trees from when this one has not built them: for a user who is not
    /// root, the machine's (built once by the admin, `sudo make rootfs`), used as it is.
    public let sharedDirectory: URL?

    /// Bumped when the builder changes what a recipe produces.
    static let builderVersion = "1"

    public init(recipesDirectory: URL, dataDirectory: URL, sharedDirectory: URL? = nil) {
        self.recipesDirectory = recipesDirectory
        self.dataDirectory = dataDirectory
        self.sharedDirectory = sharedDirectory
    }

    public static func standard() throws -> RootfsStore {
        let data = ProjectFiles.dataDirectory()
        let system = ProjectFiles.systemDataDirectory
        return RootfsStore(
            recipesDirectory: try ProjectFiles.recipesDirectory(), dataDirectory: data,
            sharedDirectory: data.standardizedFileURL.path == system.path ? nil : system)
    }

    var storeDirectory: URL { dataDirectory.appendingPathComponent("rootfs", isDirectory: true) }

    public func recipeNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: recipesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    public func recipeFile(_ name: String) -> URL { recipesDirectory.appendingPathComponent(name + ".yaml") }

    public func loadRecipe(_ name: String) throws -> (recipe: Recipe, text: String) {
        let file = recipeFile(name)
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw RecipeError.notFound(name, known: recipeNames())
        }
        return (try Recipe.parse(text, file: "rootfs-recipes/\(name).yaml"), text)
    }

    /// The cache key: the recipe's text and the versions of everything it takes from the host.
    public func key(recipe: Recipe, text: String) throws -> String {
        var hasher = SHA256()
        hasher.update("builder \(Self.builderVersion)\n")
        hasher.update(text)
        for package in recipe.packages ?? [] {
            hasher.update(
                "package \(package.name) \(try RootfsBuilder.installedVersion(package.name, recipe: recipe.name))\n")
        }
        for binary in recipe.hostBinaries ?? [] {
            var st = stat()
            guard stat(binary, &st) == 0 else { throw RecipeError.hostBinaryMissing(recipe: recipe.name, path: binary) }
            hasher.update("binary \(binary) \(st.st_size) \(st.st_mtim.tv_sec)\n")
        }
        return hasher.finalize().prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    static func textKey(_ text: String) -> String {
        String(SHA256.hex("builder \(builderVersion)\n" + text).prefix(16))
    }

    func currentFile(_ name: String, in store: URL? = nil) -> URL {
        (store ?? storeDirectory).appendingPathComponent(name, isDirectory: true).appendingPathComponent("current")
    }

    /// The tree of `name` if it was built from the recipe as it is now: this store's, else the
    /// shared store's when its user can read it.
    public func builtTree(_ name: String) throws -> String? {
        let (_, text) = try loadRecipe(name)
        let stores =
            [storeDirectory] + (sharedDirectory.map { [$0.appendingPathComponent("rootfs", isDirectory: true)] } ?? [])
        for store in stores {
            guard let current = Sys.readText(currentFile(name, in: store).path)?.split(separator: " "),
                current.count == 2,
                current[0] == Self.textKey(text)
            else { continue }
            let path = store.appendingPathComponent(name)
                .appendingPathComponent(current[1].trimmingCharacters(in: .whitespacesAndNewlines)).path
            if Sys.isDirectory(path) && access(path, R_OK | X_OK) == 0 { return path }
        }
        return nil
    }

    /// Build `name` unless its current tree exists; returns the tree's path and whether it was built now.
    @discardableResult
    public func build(_ name: String, force: Bool = false, progress: @escaping (String) -> Void = { _ in }) throws -> (
        path: String, built: Bool
    ) {
        let (recipe, text) = try loadRecipe(name)
        let key = try key(recipe: recipe, text: text)
        let recipeDir = storeDirectory.appendingPathComponent(name, isDirectory: true)
        let final = recipeDir.appendingPathComponent(key, isDirectory: true)
        let fm = FileManager.default
        let marker = "\(Self.textKey(text)) \(key)\n"
        if Sys.isDirectory(final.path) && !force {
            if Sys.readText(currentFile(name).path) != marker { try Data(marker.utf8).write(to: currentFile(name)) }
            return (final.path, false)
        }
        try fm.createDirectory(
            at: recipeDir, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        let work = recipeDir.appendingPathComponent(".building-\(getpid())", isDirectory: true)
        try? fm.removeItem(at: work)
        do {
            try RootfsBuilder(recipe: recipe, tree: work.path, progress: progress).build()
            if Sys.isDirectory(final.path) { try fm.removeItem(at: final) }
            try fm.moveItem(at: work, to: final)
        } catch {
            try? fm.removeItem(at: work)
            throw error
        }
        try Data(marker.utf8).write(to: currentFile(name), options: .atomic)
        // Older builds of the same recipe are stale now.
        for entry in (try? fm.contentsOfDirectory(atPath: recipeDir.path)) ?? []
        where entry != key && entry != "current" {
            try? fm.removeItem(at: recipeDir.appendingPathComponent(entry))
        }
        return (final.path, true)
    }

    /// Remove the built trees of `name`, or of every recipe.
    public func clean(_ name: String?) throws {
        let target = name.map { storeDirectory.appendingPathComponent($0) } ?? storeDirectory
        if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
    }

    /// `--rootfs` as given: a recipe name that must be built, or a directory path.
    public func resolve(_ nameOrPath: String) throws -> String {
        if nameOrPath.contains("/") {
            let path = URL(fileURLWithPath: nameOrPath).standardizedFileURL.path
            guard Sys.isDirectory(path) else { throw RootfsError.noDirectory(path) }
            return path
        }
        guard let tree = try builtTree(nameOrPath) else { throw RootfsError.notBuilt(nameOrPath) }
        return tree
    }
}

public enum RootfsError: Error, CustomStringConvertible {
    case notBuilt(String)
    case noDirectory(String)

    public var description: String {
        switch self {
        case .notBuilt(let name):
            return
                "the root filesystem \"\(name)\" is not built yet (or its recipe changed): run contlab rootfs "
                + "build \(name)"
        case .noDirectory(let path):
            return
                "--rootfs \(path): no such directory; give a recipe name (contlab rootfs list) or an existing directory"
        }
    }
}
