import CLinux
import ContlabCore
import Foundation
import Images
import XCTest

/// Layers applied to real directories: whiteouts, opaque directories, and entries that try to
/// leave the root. Making overlay whiteouts (0:0 devices) and chown need root, as in CI.
final class LayerTreeTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = try tempDirectory()
    }

    override func tearDownWithError() throws {
        try? removeTree(root)
    }

    func file(_ path: String, _ text: String = "x") -> TarEntry {
        TarEntry(path: path, kind: .file, mode: 0o644, contents: Array(text.utf8))
    }

    func dir(_ path: String) -> TarEntry { TarEntry(path: path, kind: .directory, mode: 0o755) }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(root + "/" + path, &info) == 0
    }

    func testFlattenAppliesWhiteoutsAndOpaqueDirectories() throws {
        let base = LayerApplier(root: root, mode: .flatten, layer: "base")
        try base.apply([
            dir("etc"), file("etc/passwd"), file("etc/motd"), dir("srv"), file("srv/old"), dir("srv/sub"),
            file("srv/sub/deep")
        ])
        let top = LayerApplier(root: root, mode: .flatten, layer: "top")
        try top.apply([dir("etc"), file("etc/.wh.motd"), dir("srv"), file("srv/new"), file("srv/.wh..wh..opq")])
        XCTAssertTrue(exists("etc/passwd"))
        XCTAssertFalse(exists("etc/motd"), "a whiteout deletes the lower layer's file")
        XCTAssertFalse(exists("etc/.wh.motd"), "the whiteout itself is not a file in the result")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: root + "/srv"), ["new"],
            "an opaque directory hides what lower layers had in it, but keeps this layer's files")
    }

    func testOverlayModeWritesOverlaysOwnWhiteouts() throws {
        try XCTSkipUnless(geteuid() == 0, "making a 0:0 character device needs root; make test runs as root")
        let layer = LayerApplier(root: root, mode: .overlay, layer: "top")
        try layer.apply([dir("etc"), file("etc/.wh.motd"), dir("srv"), file("srv/.wh..wh..opq")])
        var info = stat()
        XCTAssertEqual(lstat(root + "/etc/motd", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR)
        XCTAssertEqual(info.st_rdev, 0)
        var value = [UInt8](repeating: 0, count: 4)
        XCTAssertEqual(lgetxattr(root + "/srv", "trusted.overlay.opaque", &value, 4), 1)
        XCTAssertEqual(value[0], UInt8(ascii: "y"))
        // And back: an upper directory read as a layer gives image-spec's entries again.
        let entries = try TreeReader(source: .overlayUpper(rootless: false)).entries(of: root)
        XCTAssertEqual(Set(entries.map(\.path)), ["etc", "etc/.wh.motd", "srv", "srv/.wh..wh..opq"])
    }

    func testASymlinkCannotCarryALaterEntryOutOfTheRoot() throws {
        let outside = try tempDirectory()
        defer { try? removeTree(outside) }
        let layer = LayerApplier(root: root, mode: .flatten, layer: "evil")
        XCTAssertThrowsError(
            try layer.apply([TarEntry(path: "link", kind: .symlink, linkName: outside), file("link/pwned")])
        ) { error in
            XCTAssertTrue("\(error)".contains("link/pwned") && "\(error)".contains("symlink"), "\(error)")
        }
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: outside + "/pwned"), "nothing was written outside the root")
    }

    func testAFileCannotReplaceASymlinksTarget() throws {
        let outside = try tempDirectory()
        defer { try? removeTree(outside) }
        try "secret".write(toFile: outside + "/target", atomically: true, encoding: .utf8)
        let layer = LayerApplier(root: root, mode: .flatten, layer: "evil")
        try layer.apply([TarEntry(path: "f", kind: .symlink, linkName: outside + "/target"), file("f", "overwritten")])
        XCTAssertEqual(
            try String(contentsOfFile: outside + "/target", encoding: .utf8), "secret",
            "the symlink was replaced, not written through")
        XCTAssertEqual(try String(contentsOfFile: root + "/f", encoding: .utf8), "overwritten")
    }

    /// A name longer than the kernel takes (255 bytes a component, 4096 a path) is refused with
    /// the layer and the entry named, not as a bare ENAMETOOLONG.
    func testNamesTooLongNameTheLayerAndTheEntry() {
        let layer = LayerApplier(root: root, mode: .flatten, layer: "img:v1 sha256:abc")
        let component = String(repeating: "n", count: 300)
        XCTAssertThrowsError(try layer.apply([file("etc/" + component)])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("img:v1 sha256:abc"), text)
            XCTAssertTrue(text.contains("etc/nnnn"), text)
            XCTAssertTrue(text.contains("255"), text)
        }
        XCTAssertThrowsError(
            try layer.apply([TarEntry(path: "l", kind: .symlink, linkName: String(repeating: "t", count: 5000))])
        ) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("img:v1 sha256:abc") && text.contains("4095"), text)
        }
        // A path past PATH_MAX is not refused: the unpacker opens it a directory at a time.
        let deep = Array(repeating: "d", count: 2100).joined(separator: "/")
        XCTAssertNoThrow(try layer.apply([file(deep + "/f")]))
        let message = "\(ImageError.unsafeEntry(layer: "x", entry: deep, "is odd"))"
        XCTAssertLessThan(message.count, 200, "a long entry is shortened in messages: \(message)")
        XCTAssertTrue(message.contains("4199 bytes"), message)
    }

    func testClimbingAndAbsoluteEntriesAreRefused() {
        let layer = LayerApplier(root: root, mode: .flatten, layer: "evil")
        XCTAssertThrowsError(try layer.apply([file("../escaped")]))
        XCTAssertThrowsError(try layer.apply([file("/etc/escaped")]))
        XCTAssertThrowsError(try layer.apply([TarEntry(path: "h", kind: .hardlink, linkName: "../../etc/shadow")]))
    }

    func testDeviceNodesAreRefusedWhenRootless() {
        var layer = LayerApplier(root: root, mode: .flatten, layer: "dev")
        layer.rootless = true
        XCTAssertThrowsError(
            try layer.apply([TarEntry(path: "null", kind: .characterDevice, mode: 0o666, devMajor: 1, devMinor: 3)])
        ) {
            XCTAssertTrue("\($0)".contains("device node"), "\($0)")
        }
    }

    func testHardLinksShareOneFile() throws {
        let layer = LayerApplier(root: root, mode: .flatten, layer: "links")
        try layer.apply([
            dir("bin"), file("bin/busybox", "elf"), TarEntry(path: "bin/sh", kind: .hardlink, linkName: "bin/busybox")
        ])
        var a = stat(), b = stat()
        lstat(root + "/bin/busybox", &a)
        lstat(root + "/bin/sh", &b)
        XCTAssertEqual(a.st_ino, b.st_ino)
        let entries = try TreeReader().entries(of: root)
        XCTAssertEqual(entries.first { $0.path == "bin/sh" }?.kind, .hardlink, "read back as a hard link, stored once")
    }

    func testDiffAgainstABaseKeepsOnlyWhatChanged() throws {
        let base = try tempDirectory()
        defer { try? removeTree(base) }
        try LayerApplier(root: base, mode: .flatten, layer: "base").apply([
            dir("etc"), file("etc/a", "1"), file("etc/b", "2")
        ])
        try LayerApplier(root: root, mode: .flatten, layer: "tree").apply([
            dir("etc"), file("etc/a", "1"), file("etc/b", "changed"), file("etc/c", "new")
        ])
        let entries = try TreeReader(source: .tree, base: base).entries(of: root)
        XCTAssertEqual(entries.map(\.path), ["etc", "etc/b", "etc/c"])
    }
}

final class ImageStoreTests: XCTestCase {
    var data = ""
    var store: ImageStore { ImageStore(directory: data + "/images", layersDirectory: data + "/layers") }

    override func setUpWithError() throws { data = try tempDirectory() }
    override func tearDownWithError() throws { try? removeTree(data) }

    func makeImage() throws -> StoredImage {
        let tree = data + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        try "echo hi".write(toFile: tree + "/bin/hello", atomically: true, encoding: .utf8)
        return try ImageBuilder(store: store).build(
            tree: tree, base: nil, settings: RunSettings(), createdBy: "test",
            as: ImageReference(name: "t"))
    }

    /// A new layer's blob is written only while the store's lock is held, with the name that
    /// refers to it: an `image rm` between the two would collect it. Here the test holds the
    /// lock while a commit runs: nothing of the commit may reach blobs/ until it lets go.
    func testANewLayerIsStoredOnlyUnderTheLockWithItsName() throws {
        let base = try makeImage()
        let upper = data + "/upper"
        try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
        try "hello".write(toFile: upper + "/greeting", atomically: true, encoding: .utf8)
        let blobs = data + "/images/blobs/sha256"
        let before = try FileManager.default.contentsOfDirectory(atPath: blobs).count
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var committed: StoredImage?
        let store = self.store
        try Sys.withFileLock(data + "/images/.lock") {
            DispatchQueue.global().async {
                committed = try? ImageBuilder(store: store).commit(
                    upper: upper, rootless: false, base: base, settings: RunSettings(),
                    createdBy: "test", as: ImageReference(name: "greeting"))
                done.signal()
            }
            XCTAssertEqual(done.wait(timeout: .now() + 1), .timedOut, "the commit waits for the lock")
            XCTAssertEqual(
                try FileManager.default.contentsOfDirectory(atPath: blobs).count, before,
                "no blob of the commit is stored before it holds the lock")
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        let image = try XCTUnwrap(committed)
        XCTAssertEqual(image.manifest.layers.count, 2)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: blobs).count, before + 3, "layer, config and manifest")
        XCTAssertNoThrow(try store.blob(image.manifest.layers[1], what: "the new layer"))
    }

    func testLayoutDocumentsAreWhatImageSpecSays() throws {
        let image = try makeImage()
        let index =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data + "/images/index.json")))
            as! [String: Any]
        XCTAssertEqual(index["schemaVersion"] as? Int, 2)
        let manifests = index["manifests"] as! [[String: Any]]
        XCTAssertEqual(
            (manifests[0]["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"], "t:latest")
        XCTAssertEqual(image.manifest.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip")
        XCTAssertEqual(image.config.rootfs.diff_ids.count, 1)
        XCTAssertEqual(
            try String(contentsOfFile: data + "/images/oci-layout", encoding: .utf8), #"{"imageLayoutVersion":"1.0.0"}"#
        )
        XCTAssertEqual(try store.image(ImageReference(name: "t")).descriptor.digest, image.descriptor.digest)
    }

    func testATamperedBlobIsRefusedWithBothDigests() throws {
        let image = try makeImage()
        let layer = image.manifest.layers[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: store.blobPath(layer.digest)))
        bytes[bytes.count - 10] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: store.blobPath(layer.digest)))
        XCTAssertThrowsError(try store.unpackedLayer(layer, diffID: image.config.rootfs.diff_ids[0], image: "t")) {
            error in
            XCTAssertTrue("\(error)".contains("expected \(layer.digest)"), "\(error)")
            XCTAssertTrue("\(error)".contains("found sha256:"), "\(error)")
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: data + "/layers"), [], "nothing half-unpacked is left")
    }

    func testMissingBlobAndBrokenIndexAreNamed() throws {
        let image = try makeImage()
        unlink(store.blobPath(image.manifest.config.digest))
        XCTAssertThrowsError(try store.image(ImageReference(name: "t"))) {
            XCTAssertTrue(
                "\($0)".contains(image.manifest.config.digest.description) && "\($0)".contains("not in the store"),
                "\($0)")
        }
        try "{ not json".write(toFile: data + "/images/index.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try store.images()) { XCTAssertTrue("\($0)".contains("index.json"), "\($0)") }
        XCTAssertThrowsError(try store.image(ImageReference(name: "nope"))) {
            XCTAssertTrue("\($0)".contains("index.json"), "\($0)")
        }
    }

    func testRemoveCollectsUnusedBlobsButKeepsShared() throws {
        let first = try makeImage()
        let second = try ImageBuilder(store: store).build(
            tree: data + "/tree", base: nil,
            settings: {
                var s = RunSettings(); s.cmd = ["true"]; return s
            }(),
            createdBy: "test", as: ImageReference(name: "u"))
        XCTAssertEqual(first.manifest.layers, second.manifest.layers, "the same tree gives the same layer blob")
        try store.remove(ImageReference(name: "t"), keepingLayers: [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.blobPath(first.descriptor.digest)))
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: store.blobPath(first.manifest.layers[0].digest)),
            "u still uses the layer")
        XCTAssertThrowsError(try store.remove(ImageReference(name: "t"), keepingLayers: []))
    }

    func testExportImportRoundTripAndTamperedArchive() throws {
        let image = try makeImage()
        let archive = data + "/t.tar"
        try ImageArchive(store: store).export(image, to: archive)
        let other = ImageStore(directory: data + "/other/images", layersDirectory: data + "/other/layers")
        XCTAssertEqual(try ImageArchive(store: other).importImages(from: archive), [ImageReference(name: "t")])
        XCTAssertEqual(try other.image(ImageReference(name: "t")).descriptor.digest, image.descriptor.digest)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        // Flip a byte inside the last blob's data (the archive ends with it and two zero blocks).
        let position = bytes.count - 1024 - 600
        bytes[position] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: archive))
        let third = ImageStore(directory: data + "/third/images", layersDirectory: data + "/third/layers")
        XCTAssertThrowsError(try ImageArchive(store: third).importImages(from: archive)) {
            XCTAssertTrue("\($0)".contains("expected") || "\($0)".contains("tar"), "\($0)")
        }
        XCTAssertEqual((try? third.index().manifests.count) ?? 0, 0, "a refused archive adds nothing")
    }
}
