import CLinux
import Foundation
import Images
import XCTest

/// Layers unpacked as they are read (blob → zlib → tar → disk, a chunk at a time): the same tree
/// as the whole-array reader whatever the chunk size, a digest that does not match refused, and
/// a gzip bomb unpacked in bounded memory or refused at the limit, with nothing half-unpacked
/// left behind.
final class LayerStreamTests: XCTestCase {
    var data = ""

    override func setUpWithError() throws { data = try tempDirectory() }
    override func tearDownWithError() throws { try? removeTree(data) }

    func store(layers: String = "layers") -> ImageStore {
        ImageStore(directory: data + "/images", layersDirectory: data + "/" + layers)
    }

    /// `blob` stored as the one layer of image `name`, whose config says `diffID`.
    @discardableResult
    func image(_ name: String, blob: [UInt8], mediaType: String = MediaType.layerGzip, diffID: Digest) throws
        -> StoredImage
    {
        let layer = try store().putBlob(blob, mediaType: mediaType)
        let config = ImageConfig(architecture: "amd64", os: "linux", config: nil, rootfs: .init(diff_ids: [diffID]))
        return try store().save(ImageReference(name: name), config: config, layers: [layer])
    }

    func unpack(_ image: StoredImage, in store: ImageStore) throws -> String {
        try store.unpackedLayer(
            image.manifest.layers[0], diffID: image.config.rootfs.diff_ids[0], image: image.reference.description)
    }

    func leftovers(_ layers: String = "layers") -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: data + "/" + layers)) ?? []
    }

    /// Bytes that do not compress away, so the gzip stream is as long as the tar.
    static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Members whose headers and contents fall across every chunk size the test reads with:
    /// sizes around a block, a pax header (long name, big uid), links and a fifo.
    static func sampleArchive() -> [UInt8] {
        var entries = [
            TarEntry(path: "etc", kind: .directory, mode: 0o755, mtime: 1_600_000_000),
            TarEntry(path: "etc/empty", kind: .file, mode: 0o600, mtime: 1_600_000_001),
            TarEntry(path: "srv", kind: .directory, mode: 0o750, mtime: 1_600_000_002)
        ]
        // A path past ustar's 100 bytes: a pax header before it.
        var deep = "srv/"
        for level in 0..<7 {
            deep += "long-directory-name-\(level)/"
            entries.append(TarEntry(path: deep, kind: .directory, mode: 0o755, mtime: 1_600_000_010 + level))
        }
        entries += [
            TarEntry(
                path: deep + "owned-by-a-big-uid", kind: .file, uid: 3_000_000, gid: 3_000_000,
                contents: noise(2_000, seed: 9)),
            TarEntry(path: "etc/link", kind: .symlink, mode: 0o777, linkName: "../srv/f-513"),
            TarEntry(path: "run", kind: .directory, mode: 0o755),
            TarEntry(path: "run/pipe", kind: .fifo, mode: 0o644)
        ]
        for (index, size) in [1, 511, 512, 513, 4_095, 70_001].enumerated() {
            entries.append(
                TarEntry(
                    path: "srv/f-\(size)", kind: .file, mode: 0o644, mtime: 1_600_000_100 + index,
                    contents: noise(size, seed: UInt64(size))))
        }
        entries.append(TarEntry(path: "srv/hard", kind: .hardlink, linkName: "srv/f-513"))
        var writer = TarWriter()
        entries.forEach { writer.append($0) }
        return writer.finish()
    }

    /// Every file under `root`: kind and mode, owner, size, time, link count, target, contents.
    func tree(_ root: String) throws -> [String] {
        let names = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
        return try names.map { name in
            var info = stat()
            XCTAssertEqual(lstat(root + "/" + name, &info), 0)
            var line =
                "\(name) \(String(info.st_mode, radix: 8)) \(info.st_uid):\(info.st_gid) \(info.st_size) "
                + "links=\(info.st_nlink)"
            if info.st_mode & S_IFMT != S_IFLNK { line += " mtime=\(info.st_mtim.tv_sec)" }
            if info.st_mode & S_IFMT == S_IFLNK {
                line += " -> " + (try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + name))
            }
            if info.st_mode & S_IFMT == S_IFREG {
                line += " " + Digest.of(try Data(contentsOf: URL(fileURLWithPath: root + "/" + name))).short
            }
            return line
        }
    }

    func testChunkBoundariesGiveTheSameTreeAsTheWholeArchive() throws {
        let tar = Self.sampleArchive()
        let whole = data + "/whole"
        try FileManager.default.createDirectory(atPath: whole, withIntermediateDirectories: true)
        try LayerApplier(root: whole, mode: .overlay, layer: "whole").apply(try TarReader.entries(tar))
        let expected = try tree(whole)
        XCTAssertEqual(expected.count, 21, "\(expected)")

        let gzipped = try image("gz", blob: try Gzip.compress(tar), diffID: Digest.of(tar))
        let plain = try image("plain", blob: tar, mediaType: MediaType.layerTar, diffID: Digest.of(tar))
        for image in [gzipped, plain] {
            for chunk in [1, 7, 511, 512, 513, 4_096, 256 << 10] {
                let layers = "layers-\(image.reference.name)-\(chunk)"
                var store = store(layers: layers)
                store.chunkSize = chunk
                let path = try unpack(image, in: store)
                XCTAssertEqual(try tree(path), expected, "\(image.reference), chunks of \(chunk) bytes")
                XCTAssertEqual(leftovers(layers), [Digest.of(tar).hex])
            }
        }
    }

    func testALayerWhoseDiffIDDoesNotMatchIsRefusedAndNothingIsLeft() throws {
        let tar = Self.sampleArchive()
        let claimed = Digest.of(Array("another layer".utf8))
        let image = try image("lying", blob: try Gzip.compress(tar), diffID: claimed)
        XCTAssertThrowsError(try unpack(image, in: store())) { error in
            let text = "\(error)"
            XCTAssertTrue(
                text.contains(
                    "image lying:latest layer \(image.manifest.layers[0].digest.short) (uncompressed, the config's "
                        + "diff_id)"
                ), text)
            XCTAssertTrue(text.contains("expected \(claimed), found \(Digest.of(tar))"), text)
        }
        XCTAssertEqual(leftovers(), [], "the half-unpacked layer was removed")
    }

    // MARK: - A gzip bomb: 300 MiB of zeros in a few hundred KiB

    static let bombSize = 300 << 20

    /// Made by gzip and sha256sum from a pipe, so this process never holds the 300 MiB either.
    func bomb() throws -> StoredImage {
        var writer = TarWriter()
        writer.append(TarEntry(path: "zeros", kind: .file, mode: 0o644))
        var header = Array(writer.bytes.prefix(512))
        HostileTarTests.put(&header, String(format: "%011o", Self.bombSize), at: 124)
        HostileTarTests.fixChecksum(&header)
        let headerPath = data + "/bomb-header"
        try Data(header).write(to: URL(fileURLWithPath: headerPath))
        // The contents, then two zero blocks to end the archive.
        let tar = "{ cat \(headerPath); head -c \(Self.bombSize + 1024) /dev/zero; }"
        try runTool("/bin/sh", ["-c", "\(tar) | gzip -n > \(data)/bomb.gz"])
        let sum = try runTool("/bin/sh", ["-c", "\(tar) | sha256sum"])
        let blob = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data + "/bomb.gz")))
        XCTAssertLessThan(blob.count, 1 << 20)
        return try image("bomb", blob: blob, diffID: Digest(hex: String(sum.prefix(64))))
    }

    /// The process's peak resident memory (VmHWM, as getrusage's ru_maxrss, but resettable).
    static func peakKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        {
            return kib
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }

    /// Start the peak again from what is resident now (Linux 4.0 and later), so a spike while
    /// the test binary started up cannot hide the unpack's.
    static func resetPeak() {
        let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = write(fd, "5", 1)
        close(fd)
    }

    /// The peak is started again just before the unpack (clear_refs), so making the bomb and
    /// the tests before this one do not count: only what unpacking 300 MiB adds.
    func testABombUnpacksInBoundedMemory() throws {
        let image = try bomb()
        var store = store()
        store.layerLimit = 1 << 30
        Self.resetPeak()
        let before = Self.peakKiB()
        _ = try store.unpackedLayer(image.manifest.layers[0], diffID: image.config.rootfs.diff_ids[0], image: "bomb")
        let growth = Self.peakKiB() - before
        print("bomb of \(Self.bombSize >> 20) MiB: peak RSS \(before) KiB before the unpack, +\(growth) KiB during it")
        XCTAssertLessThan(growth, 64 << 10, "unpacking \(Self.bombSize >> 20) MiB grew the peak by \(growth) KiB")
        var info = stat()
        XCTAssertEqual(stat(data + "/layers/" + image.config.rootfs.diff_ids[0].hex + "/zeros", &info), 0)
        XCTAssertEqual(Int(info.st_size), Self.bombSize)
    }

    func testABombOverTheLimitIsRefusedWithNothingLeft() throws {
        let image = try bomb()
        var store = store()
        store.layerLimit = 64 << 20
        XCTAssertThrowsError(try unpack(image, in: store)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("image bomb:latest layer \(image.manifest.layers[0].digest.short)"), text)
            XCTAssertTrue(
                text.contains("decompresses to more than 64 MiB") && text.contains("CONTLAB_LAYER_LIMIT"), text)
        }
        XCTAssertEqual(leftovers(), [], "the half-unpacked layer was removed")
    }
}
