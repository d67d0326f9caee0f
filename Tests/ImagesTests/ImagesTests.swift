import ContlabCore
import Foundation
import Images
import OCI
import Stage5Images
import XCTest

final class DigestAndFormatTests: XCTestCase {
    func testDigestOfKnownInput() throws {
        XCTAssertEqual(
            Digest.of(Array("abc".utf8)).description,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.of([UInt8]()).hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testHashingInPiecesMatchesTheStandardVector() {
        let text = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(Digest.of(text).hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let long = [UInt8]((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var pieces = SHA256()
        var index = 0
        for size in [1, 63, 64, 65, 0, 127, 3000] + Array(repeating: 500, count: 20) where index < long.count {
            let end = min(long.count, index + size)
            pieces.update(long[index..<end])
            index = end
        }
        pieces.update(long[index...])
        XCTAssertEqual(
            pieces.finalize().map { String(format: "%02x", $0) }.joined(), Digest.of(long).hex,
            "the same digest however the bytes arrive")
    }

    func testDigestParsingRefusesOtherForms() {
        XCTAssertThrowsError(try Digest(parsing: "md5:abc"))
        XCTAssertThrowsError(try Digest(parsing: "sha256:ABC"))
        XCTAssertThrowsError(try Digest(parsing: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        XCTAssertNoThrow(try Digest(parsing: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    }

    func testGzipRoundTripIsDeterministic() throws {
        let input = [UInt8]((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) })
        let once = try Gzip.compress(input)
        XCTAssertEqual(once, try Gzip.compress(input), "the same bytes must give the same blob and digest")
        XCTAssertTrue(Gzip.isGzip(once))
        XCTAssertEqual(try Gzip.decompress(once), input)
        XCTAssertThrowsError(try Gzip.decompress(Array(once.prefix(once.count / 2))))
    }

    func testTarRoundTripKeepsEveryKindAndLongNames() throws {
        let long = String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 60)
        let entries = [
            TarEntry(path: "bin", kind: .directory, mode: 0o755, mtime: 1_000),
            TarEntry(
                path: "bin/busybox", kind: .file, mode: 0o4755, uid: 0, gid: 0, mtime: 1_001,
                contents: Array("#!\u{0}".utf8)),
            TarEntry(path: "bin/sh", kind: .symlink, mode: 0o777, linkName: "busybox"),
            TarEntry(path: "bin/ash", kind: .hardlink, linkName: "bin/busybox"),
            TarEntry(path: "dev/null", kind: .characterDevice, mode: 0o666, devMajor: 1, devMinor: 3),
            TarEntry(path: long, kind: .file, uid: 100_000_000, contents: [1, 2, 3]),
            TarEntry(path: "etc/.wh.passwd", kind: .file, mode: 0)
        ]
        var writer = TarWriter()
        entries.forEach { writer.append($0) }
        let archive = writer.finish()
        XCTAssertEqual(archive.count % 512, 0)
        var read = try TarReader.entries(archive)
        XCTAssertEqual(read.first?.path, "bin/")
        read[0].path = "bin"
        XCTAssertEqual(read, entries)
    }

    func testTarMadeByThisWriterIsReadByGNUTar() throws {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var writer = TarWriter()
        writer.append(TarEntry(path: "a", kind: .directory, mode: 0o755))
        writer.append(
            TarEntry(path: "a/" + String(repeating: "x", count: 120), kind: .file, contents: Array("hello\n".utf8)))
        try Data(writer.finish()).write(to: URL(fileURLWithPath: dir + "/t.tar"))
        let listing = try runTool("/bin/tar", ["-tf", dir + "/t.tar"])
        XCTAssertEqual(listing, "a/\na/" + String(repeating: "x", count: 120) + "\n")
    }

    func testTarReaderRefusesDamage() {
        var writer = TarWriter()
        writer.append(TarEntry(path: "f", kind: .file, contents: [1]))
        var archive = writer.finish()
        archive[10] ^= 0xff
        XCTAssertThrowsError(try TarReader.entries(archive)) { XCTAssertTrue("\($0)".contains("checksum")) }
    }

    func testReferences() throws {
        XCTAssertEqual(try ImageReference(parsing: "busybox").description, "busybox:latest")
        XCTAssertEqual(try ImageReference(parsing: "lab/tools:v1.2").tag, "v1.2")
        XCTAssertEqual(try ImageReference(parsing: "lab/tools").description, "lab/tools:latest")
        XCTAssertThrowsError(try ImageReference(parsing: "Busybox"))
        XCTAssertThrowsError(try ImageReference(parsing: "bb:-x"))
        XCTAssertThrowsError(try ImageReference(parsing: ""))
    }

    func testLayerPathsThatLeaveTheRootAreRefused() throws {
        XCTAssertThrowsError(try LayerPath.components("/etc/passwd", layer: "L")) {
            XCTAssertTrue("\($0)".contains("absolute"))
        }
        XCTAssertThrowsError(try LayerPath.components("a/../../etc", layer: "L")) {
            XCTAssertTrue("\($0)".contains(".."))
        }
        XCTAssertEqual(try LayerPath.components("./a//b/", layer: "L"), ["a", "b"])
        XCTAssertNil(try LayerPath.components("./", layer: "L"))
    }

    func testOverlayOptions() throws {
        let mount = OverlayMount(lower: ["/l/top", "/l/base"], upper: "/c/upper", work: "/c/work", target: "/c/merged")
        XCTAssertEqual(try mount.options(), "lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work")
        XCTAssertThrowsError(try OverlayMount(lower: ["/a:b"], upper: "/u", work: "/w", target: "/m").options())
        let deep = OverlayMount(
            lower: Array(repeating: "/var/lib/contlab/layers/" + String(repeating: "a", count: 64), count: 60),
            upper: "/u", work: "/w", target: "/m")
        XCTAssertThrowsError(try deep.options()) { XCTAssertTrue("\($0)".contains("4096")) }
    }
}

final class ConversionTests: XCTestCase {
    func image(_ execution: ImageConfig.Execution) -> StoredImage {
        var config = ImageConfig(architecture: "amd64", os: "linux", config: execution, rootfs: .init(diff_ids: []))
        config.created = "2026-11-24T00:00:00Z"
        let descriptor = Descriptor(mediaType: MediaType.manifest, digest: Digest.of([1]), size: 1)
        return StoredImage(
            reference: ImageReference(name: "t"), descriptor: descriptor,
            manifest: Manifest(config: descriptor, layers: []), config: config)
    }

    func testEntrypointCmdEnvAndAnnotations() throws {
        var execution = ImageConfig.Execution()
        execution.Entrypoint = ["/bin/echo"]
        execution.Cmd = ["default"]
        execution.Env = ["PATH=/bin", "A=1"]
        execution.WorkingDir = "/srv"
        execution.Labels = ["course": "containers"]
        execution.StopSignal = "SIGQUIT"
        execution.ExposedPorts = ["80/tcp": EmptyObject(), "53/udp": EmptyObject()]
        let spec = try RuntimeConfig.make(
            image: image(execution), users: UserDatabase(rootfs: "/nonexistent"), rootless: false)
        XCTAssertEqual(spec.process?.args, ["/bin/echo", "default"])
        XCTAssertEqual(spec.process?.cwd, "/srv")
        XCTAssertEqual(spec.annotations?["course"], "containers")
        XCTAssertEqual(spec.annotations?["org.opencontainers.image.stopSignal"], "SIGQUIT")
        XCTAssertEqual(spec.annotations?["org.opencontainers.image.exposedPorts"], "53/udp,80/tcp")
        XCTAssertEqual(spec.annotations?["org.opencontainers.image.created"], "2026-11-24T00:00:00Z")
        let overridden = try RuntimeConfig.make(
            image: image(execution), users: UserDatabase(rootfs: "/nonexistent"), rootless: false,
            command: ["hello"], env: ["A=2", "B=3"])
        XCTAssertEqual(
            overridden.process?.args, ["/bin/echo", "hello"], "a command given replaces Cmd, never the Entrypoint")
        XCTAssertEqual(overridden.process?.env, ["PATH=/bin", "A=2", "B=3"])
    }

    func testNoCommandAtAllIsAnError() {
        XCTAssertThrowsError(
            try RuntimeConfig.make(
                image: image(ImageConfig.Execution()), users: UserDatabase(rootfs: "/x"), rootless: false)
        ) {
            XCTAssertTrue("\($0)".contains("no Entrypoint or Cmd"))
        }
    }

    func testUserIsResolvedInTheImagesPasswd() throws {
        let root = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root:x:0:0::/root:/bin/sh\nlab:x:1000:1000::/home/lab:/bin/sh\n".write(
            toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nlab:x:1000:\nwheel:x:10:lab\n".write(
            toFile: root + "/etc/group", atomically: true, encoding: .utf8)
        var execution = ImageConfig.Execution()
        execution.Cmd = ["sh"]
        execution.User = "lab"
        let spec = try RuntimeConfig.make(image: image(execution), users: UserDatabase(rootfs: root), rootless: false)
        XCTAssertEqual(spec.process?.user.uid, 1000)
        XCTAssertEqual(spec.process?.user.gid, 1000)
        XCTAssertEqual(spec.process?.user.additionalGids, [10])
    }

    func testEnvironmentMergeKeepsOrder() {
        XCTAssertEqual(Environment.merge(["A=1", "B=2"], ["B=3", "C=4"]), ["A=1", "B=3", "C=4"])
    }
}

func tempDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "contlab-images-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@discardableResult
func runTool(_ tool: String, _ args: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = args
    let out = NSTemporaryDirectory() + "contlab-out-\(UInt32.random(in: 0...UInt32.max))"
    FileManager.default.createFile(atPath: out, contents: nil)
    defer { unlink(out) }
    process.standardOutput = FileHandle(forWritingAtPath: out)
    try process.run()
    process.waitUntilExit()
    return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
}
