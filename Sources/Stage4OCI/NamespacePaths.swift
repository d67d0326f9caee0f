import CLinux
import ContlabCore
import Foundation
import OCI

/// `linux.namespaces[].path`: a namespace the container enters instead of making one (a pod's
/// containers share their sandbox's network, IPC and UTS namespaces this way). The host opens
/// and checks every path before the clone, so a wrong one fails `create` with the entry named;
/// the child of the clone enters them (`ContainerProcess.clone(joining:)`).
public enum NamespacePaths {
    /// One entry with a path, where it stands in linux.namespaces.
    public struct Entry: Equatable, Sendable {
        public var index: Int
        public var namespace: ContlabCore.Namespace
        public var path: String
    }

    /// The entries with a path, in the order they are entered: runc's, the exec helper's too.
    /// The user namespace first, as it grants the rights over the namespaces it owns; PID before
    /// the clone that makes the init, since only children enter a joined PID namespace; mount
    /// last, because entering it changes our root and what /proc is.
    public static func entries(_ spec: Spec) -> [Entry] {
        let listed = (spec.linux?.namespaces ?? []).enumerated().compactMap { index, ns -> Entry? in
            guard let path = ns.path, let namespace = Spec.namespace(forType: ns.type) else { return nil }
            return Entry(index: index, namespace: namespace, path: path)
        }
        return OCIExecPlan.joinOrder.flatMap { namespace in listed.filter { $0.namespace == namespace } }
    }

    /// What the kernel says the file at an entry's path is: `type` is NS_GET_NSTYPE's answer,
    /// a CLONE_NEW* flag, or nil when the file is no namespace. Pure, for the tests.
    public static func check(_ entry: Entry, kernelType: UInt?) throws {
        let field = "linux.namespaces[\(entry.index)].path"
        let hint =
            "give /proc/PID/ns/\(entry.namespace.procName) of a running process, or a bind mount of one (ip netns add "
            + "makes such mounts)"
        guard let kernelType else {
            throw SpecError(field, "\(entry.path) is not a namespace file; \(hint)")
        }
        guard kernelType == entry.namespace.cloneFlag else {
            let actual = ContlabCore.Namespace.allCases.first { $0.cloneFlag == kernelType }
            let name = actual.map { Self.specType($0) } ?? "unknown"
            throw SpecError(
                field,
                "\(entry.path) is a namespace of type \(name), where the entry's type "
                    + "is \(Self.specType(entry.namespace)); \(hint)"
            )
        }
    }

    /// The spec's name of a namespace type ("network", where /proc says "net").
    static func specType(_ namespace: ContlabCore.Namespace) -> String {
        ["pid", "network", "mount", "ipc", "uts", "user", "cgroup"].first { Spec.namespace(forType: $0) == namespace }
            ?? namespace.rawValue
    }

    /// Open and check every path, in the order to enter them. A namespace this process is in
    /// already is left out: entering it is nothing to do, and the kernel refuses to re-enter
    /// one's own user namespace (EINVAL). The caller closes the descriptors.
    public static func open(_ spec: Spec) throws -> [ContainerProcess.JoinedNamespace] {
        var opened: [ContainerProcess.JoinedNamespace] = []
        do {
            for entry in entries(spec) {
                let fd = Glibc.open(entry.path, O_RDONLY | O_CLOEXEC)
                if fd < 0 {
                    let why = errno
                    let field = "linux.namespaces[\(entry.index)].path"
                    if why == ENOENT {
                        throw SpecError(
                            field,
                            "\(entry.path) does not exist: a /proc/PID/ns path lasts as long as its process"
                                + " (is PID still running?), a bind-mounted namespace as long as its mount")
                    }
                    throw SpecError(
                        field, "cannot open \(entry.path): \(String(cString: strerror(why))) (\(Errno.name(why)))")
                }
                opened.append(ContainerProcess.JoinedNamespace(namespace: entry.namespace, path: entry.path, fd: fd))
                let type = cl_namespace_type(fd)
                try check(entry, kernelType: type < 0 ? nil : UInt(type))
            }
        } catch {
            for joined in opened { close(joined.fd) }
            throw error
        }
        return opened.filter { joined in
            let same = Self.identity(fd: joined.fd) == Self.identity(path: "/proc/self/ns/\(joined.namespace.procName)")
            if same { close(joined.fd) }
            return !same
        }
    }

    static func identity(fd: Int32) -> [UInt64]? {
        var st = stat()
        return fstat(fd, &st) == 0 ? [UInt64(st.st_dev), UInt64(st.st_ino)] : nil
    }

    static func identity(path: String) -> [UInt64]? {
        var st = stat()
        return stat(path, &st) == 0 ? [UInt64(st.st_dev), UInt64(st.st_ino)] : nil
    }
}
