import ContlabCore
import Foundation

/// Stage 1: a root filesystem of its own, by chroot(2) alone. Lesson: stage1-chroot.
///
/// chroot changes only how this process resolves "/"; it leaves the working directory where it
/// was, needs no mount, and shares every namespace with the host. That is the whole runtime —
/// and why `EscapeProbe` gets out.
public enum ChrootRoot {
    public static func enter(rootfs: String) throws {
        try Sys.chroot(rootfs, hint: "chroot needs CAP_SYS_CHROOT (root, or --rootless) and a directory that exists")
        // Without this the working directory would still be the host's: chroot does not move it.
        try Sys.chdir("/")
    }
}
