import Foundation

/// Where contlab finds the data it reads at run time (`lessons/`, `rootfs-recipes/`) and where it
/// keeps what it builds (root filesystems, container state).
public enum ProjectFiles {
    /// The directory holding `lessons/` and `rootfs-recipes/`: `$CONTLAB_HOME` if set, else the
    /// first ancestor of the running executable (or of the current directory) that has both.
    /// The executable lives in `.build/...` inside a checkout, so walking up finds the checkout.
    public static func home(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let explicit = environment["CONTLAB_HOME"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        var starts: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        starts.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                if isHome(dir) { return dir }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        let installed = URL(fileURLWithPath: "/usr/share/contlab", isDirectory: true)
        return isHome(installed) ? installed : nil
    }

    static func isHome(_ dir: URL) -> Bool {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        return fm.fileExists(atPath: dir.appendingPathComponent("lessons").path, isDirectory: &isDir)
            && isDir.boolValue
            && fm.fileExists(atPath: dir.appendingPathComponent("rootfs-recipes").path)
    }

    /// `lessons/` under `home`, or an error that says how to point contlab at it.
    public static func lessonsDirectory() throws -> URL {
        guard let home = home() else { throw ProjectFilesError.homeNotFound("lessons") }
        return home.appendingPathComponent("lessons", isDirectory: true)
    }

    public static func recipesDirectory() throws -> URL {
        guard let home = home() else { throw ProjectFilesError.homeNotFound("rootfs-recipes") }
        return home.appendingPathComponent("rootfs-recipes", isDirectory: true)
    }

    /// Where built root filesystems and container state live: `$CONTLAB_DATA`, else
    /// `/var/lib/contlab` for root and `$XDG_DATA_HOME/contlab` (or `~/.local/share/contlab`).
    /// root's data directory, whose built root filesystems every user of the machine may read.
    public static let systemDataDirectory = URL(fileURLWithPath: "/var/lib/contlab", isDirectory: true)

    public static func dataDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        isRoot: Bool = getuid() == 0
    ) -> URL {
        if let explicit = environment["CONTLAB_DATA"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        if isRoot { return systemDataDirectory }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("contlab")
        }
        let home = environment["HOME"] ?? "/tmp"
        return URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".local/share/contlab", isDirectory: true)
    }
}

public enum ProjectFilesError: Error, CustomStringConvertible {
    case homeNotFound(String)

    public var description: String {
        switch self {
        case .homeNotFound(let what):
            return
                "cannot find contlab's \(what)/ directory: run contlab from its checkout, or set CONTLAB_HOME to the "
                + "directory that holds lessons/ and rootfs-recipes/"
        }
    }
}
