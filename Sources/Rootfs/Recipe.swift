import ContlabCore
import Foundation
import Yams

/// A root filesystem recipe: a YAML file under rootfs-recipes/ that says, declaratively, which
/// Debian packages' files, host binaries, directories and files make the tree. Parsing and
/// checking are pure; `RootfsBuilder` does the work.
public struct Recipe: Codable, Equatable, Sendable {
    public struct PackageFiles: Codable, Equatable, Sendable {
        /// A Debian package that must be installed on the host (`dpkg -s`).
        public var name: String
        /// Files of that package to copy, at the same paths in the tree.
        public var files: [String]
    }

    public struct Debootstrap: Codable, Equatable, Sendable {
        public var suite: String
        public var variant: String?
        public var mirror: String?
        public var include: [String]?
    }

    public var name: String
    public var summary: String
    public var packages: [PackageFiles]?
    /// The busybox binary (a path in the tree) whose applets get links, as `busybox --install` would.
    public var busyboxApplets: String?
    /// Host programs copied with the shared libraries and loader they need (found with ldd).
    public var hostBinaries: [String]?
    public var debootstrap: Debootstrap?
    /// "PATH" or "PATH MODE" (octal).
    public var directories: [String]?
    public var files: [String: String]?
    public var symlinks: [String: String]?

    enum CodingKeys: String, CodingKey {
        case name, summary, packages, debootstrap, directories, files, symlinks
        case busyboxApplets = "busybox-applets"
        case hostBinaries = "host-binaries"
    }

    public static func parse(_ text: String, file: String) throws -> Recipe {
        let recipe: Recipe
        do {
            recipe = try YAMLDecoder().decode(Recipe.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw RecipeError.malformed(
                file,
                "missing field \"\(([key] + context.codingPath.reversed()).reversed().map(\.stringValue).joined(separator: "."))\""
            )
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw RecipeError.malformed(
                file, "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch {
            throw RecipeError.malformed(file, "\(error)")
        }
        try recipe.validate(file: file)
        return recipe
    }

    /// Every path a recipe writes must stay inside the tree: absolute, without `..`.
    public func validate(file: String) throws {
        var paths: [String] = []
        paths += packages?.flatMap(\.files) ?? []
        paths += directories?.map { Self.splitDirectory($0).path } ?? []
        paths += files.map { Array($0.keys) } ?? []
        paths += symlinks.map { Array($0.keys) } ?? []
        if let busyboxApplets { paths.append(busyboxApplets) }
        for path in paths where !Self.isInsideTree(path) {
            throw RecipeError.pathOutsideTree(file, path)
        }
        for dir in directories ?? [] where Self.splitDirectory(dir).mode == nil && dir.contains(" ") {
            throw RecipeError.malformed(
                file, "directory \"\(dir)\": write \"PATH\" or \"PATH MODE\" with an octal mode")
        }
        if packages == nil && hostBinaries == nil && debootstrap == nil && files == nil {
            throw RecipeError.malformed(
                file, "a recipe needs at least one of packages, host-binaries, debootstrap or files")
        }
    }

    public static func isInsideTree(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.split(separator: "/").contains("..") && path != "/"
    }

    public static func splitDirectory(_ entry: String) -> (path: String, mode: mode_t?) {
        let parts = entry.split(separator: " ", omittingEmptySubsequences: true)
        if parts.count == 2, let mode = mode_t(parts[1], radix: 8) { return (String(parts[0]), mode) }
        return (entry, parts.count == 1 ? 0o755 : nil)
    }
}

public enum RecipeError: Error, CustomStringConvertible, Equatable {
    case notFound(String, known: [String])
    case malformed(String, String)
    case pathOutsideTree(String, String)
    case packageMissing(recipe: String, package: String)
    case packageFileMissing(recipe: String, package: String, file: String)
    case hostBinaryMissing(recipe: String, path: String)
    case toolFailed(String, String)

    public var description: String {
        switch self {
        case .notFound(let name, let known):
            return
                "no root filesystem recipe named \"\(name)\"; the recipes are: \(known.joined(separator: ", ")) (files in rootfs-recipes/), or give a directory path with --rootfs"
        case .malformed(let file, let why):
            return "\(file): \(why)"
        case .pathOutsideTree(let file, let path):
            return
                "\(file): the path \"\(path)\" is outside the root filesystem tree: paths must be absolute inside the "
                + "tree, with no \"..\""
        case .packageMissing(let recipe, let package):
            return
                "recipe \(recipe) needs the Debian package \(package), which is not installed: apt-get "
                + "install \(package) (make setup does this)"
        case .packageFileMissing(let recipe, let package, let file):
            return
                "recipe \(recipe): the package \(package) has no file \(file) on this machine (dpkg -L \(package) "
                + "lists what it has)"
        case .hostBinaryMissing(let recipe, let path):
            return
                "recipe \(recipe): the host binary \(path) does not exist; install the package that has it (dpkg -S "
                + "or apt-file search)"
        case .toolFailed(let tool, let output):
            return "\(tool) failed: \(output)"
        }
    }
}

/// Parse `ldd`'s output into the files a dynamically linked program loads: libraries by their
/// resolved path, and the loader by its absolute path. Static binaries list nothing.
public func sharedLibraries(fromLddOutput text: String) -> [String] {
    var paths: [String] = []
    for rawLine in text.split(separator: "\n") {
        let line = rawLine.trimmingCharacters(in: .whitespaces)
        if let arrow = line.range(of: "=> ") {
            let rest = line[arrow.upperBound...]
            let path = rest.split(separator: " ").first.map(String.init) ?? ""
            if path.hasPrefix("/") { paths.append(path) }
        } else if line.hasPrefix("/") {
            if let path = line.split(separator: " ").first { paths.append(String(path)) }
        }
    }
    var seen = Set<String>()
    return paths.filter { seen.insert($0).inserted }
}
