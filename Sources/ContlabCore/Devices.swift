import Foundation

/// dev_t as glibc's `makedev`, `major` and `minor` build and split it (macros, which Swift's
/// Glibc module does not import): 12 bits of major and 20 of minor in the old 16-bit places,
/// the rest above.
public enum DeviceNumber {
    public static func make(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let maj = UInt64(major), min = UInt64(minor)
        return dev_t(
            (min & 0xff) | ((maj & 0xfff) << 8) | ((min & ~UInt64(0xff)) << 12) | ((maj & ~UInt64(0xfff)) << 32))
    }

    public static func major(_ dev: UInt64) -> UInt32 { UInt32(((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))) }
    public static func minor(_ dev: UInt64) -> UInt32 { UInt32((dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))) }
}

/// The character devices programs expect in every container's /dev, the runtime spec's
/// "Default Devices" (config-linux.md), all 0666.
public enum DefaultDevices {
    public static let nodes: [(name: String, major: UInt32, minor: UInt32)] = [
        ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)
    ]
}
