import ContlabCore
import Foundation
import XCTest

/// Stage 5 for real: images built from the busybox tree in a private data directory, containers
/// on overlayfs, diff and commit, and umoci and skopeo reading what contlab writes.
final class ImageStageTests: XCTestCase {
    static var data = ""
    var env: [String: String] { ["CONTLAB_DATA": Self.data] }

    override class func setUp() {
        data = NSTemporaryDirectory() + "contlab-stage5-\(getpid())"
        try? FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    }

    override class func tearDown() {
        // Every test removes its containers; a leftover mount would make this fail loudly.
        _ = try? Harness.execute(["/bin/rm", "-rf", data])
    }

    override func setUpWithError() throws {
        try Harness.requireRoot()
        let listed = try contlab(["image", "list", "-q"]).stdout
        if !listed.contains("busybox:latest") {
            let tree = try Harness.busyboxRootfs()
            try expectSuccess(["image", "build", "--dir", tree, "busybox:latest"])
        }
    }

    @discardableResult
    func contlab(_ args: [String]) throws -> Harness.Result { try Harness.run(args, environment: env) }

    @discardableResult
    func expectSuccess(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Harness.Result {
        let result = try contlab(args)
        XCTAssertEqual(
            result.status, 0, "contlab \(args.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result
    }

    /// A digest of every file, link and mode under `root`: equal digests, unchanged trees.
    func treeDigest(_ root: String) -> String {
        var hash = SHA256()
        let names = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
        for name in names {
            let path = root + "/" + name
            var info = stat()
            lstat(path, &info)
            hash.update("\(name) \(info.st_mode) \(info.st_uid) \(info.st_size) \(Sys.readLink(path) ?? "")\n")
            if info.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: path) {
                hash.update([UInt8](data))
            }
        }
        return SHA256.hex(hash.finalize())
    }

    func overlayMounts() -> Int {
        (Sys.readText("/proc/self/mountinfo") ?? "").split(separator: "\n").filter { $0.contains(" - overlay ") }.count
    }

    /// Unpacked layers are the store owner's alone: another user of the machine cannot reach a
    /// file of one (a layer may carry device nodes and setuid programs).
    func testUnpackedLayersAreOutOfOtherUsersReach() throws {
        try expectSuccess(["run", "--stage", "5", "--image", "busybox", "--rm", "--", "true"])
        let layers = Self.data + "/layers"
        var info = stat()
        XCTAssertEqual(stat(layers, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        let layer = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: layers).first { !$0.hasPrefix(".") })
        let file = layers + "/" + layer + "/bin/busybox"
        XCTAssertTrue(FileManager.default.fileExists(atPath: file), "the layer is unpacked")
        let other = try Harness.execute([
            "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/cat", file
        ])
        XCTAssertNotEqual(other.status, 0, "uid 65534 read a file of an unpacked layer")
        XCTAssertTrue(other.stderr.contains("Permission denied"), other.stderr)
    }

    /// A container directory without its record (a crash, a kill while it was made) is listed as
    /// broken, named in every command's message, and removed by container rm: none of them crash.
    func testABrokenContainerIsListedAndRemovable() throws {
        try expectSuccess(["run", "--stage", "5", "--image", "busybox", "--name", "whole", "--", "true"])
        defer { _ = try? contlab(["container", "rm", "whole"]) }
        let broken = "broken\(getpid())"
        try FileManager.default.createDirectory(
            atPath: Self.data + "/containers/\(broken)/upper", withIntermediateDirectories: true)
        let list = try expectSuccess(["container", "list"])
        XCTAssertTrue(list.stdout.contains("whole"), list.stdout)
        XCTAssertTrue(
            list.stdout.contains("\(broken)") && list.stdout.contains("broken: no container.json"), list.stdout)
        for args in [["diff", broken], ["commit", broken, "x:1"]] {
            let result = try contlab(args)
            XCTAssertEqual(result.status, 1, "\(args): \(result.stderr)")
            XCTAssertTrue(
                result.stderr.contains("container \(broken) is broken")
                    && result.stderr.contains("contlab container rm \(broken)"), result.stderr)
        }
        XCTAssertEqual(try contlab(["image", "list"]).status, 0)
        try expectSuccess(["container", "rm", broken])
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.data + "/containers/\(broken)"))
        XCTAssertFalse(try expectSuccess(["container", "list"]).stdout.contains(broken))
    }

    /// A layer half-unpacked by a contlab that was killed is removed by the next unpack.
    func testAHalfUnpackedLayerOfADeadUnpackerIsRemoved() throws {
        let stale = Self.data + "/layers/.partial-0123456789ab-999999999"
        try FileManager.default.createDirectory(atPath: stale + "/usr/bin", withIntermediateDirectories: true)
        let tree = try Harness.busyboxRootfs()
        try expectSuccess(["image", "build", "--dir", tree, "--from", "busybox", "stale:1"])
        defer { _ = try? contlab(["image", "rm", "stale:1"]) }
        try expectSuccess(["run", "--stage", "5", "--image", "stale:1", "--rm", "--", "true"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
    }

    /// SIGTERM (or Ctrl-C) while a layer unpacks stops the run, which removes the half-unpacked
    /// layer and the container's directory, so the name is free again (it was left "broken").
    func testASignalDuringTheUnpackLeavesNothing() throws {
        let tree = Self.data + "/big-tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        // Random bytes do not compress: 128 MiB take seconds to unpack, time to signal.
        try Harness.execute(["/bin/sh", "-c", "head -c 134217728 /dev/urandom > \(tree)/big"])
        try expectSuccess(["image", "build", "--dir", tree, "--from", "busybox", "big:1"])
        try? FileManager.default.removeItem(atPath: tree)
        defer { _ = try? contlab(["image", "rm", "big:1"]) }
        let name = "sig\(getpid())"
        let errors = Self.data + "/run-stderr"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary)
        process.arguments = ["run", "--stage", "5", "--image", "big:1", "--name", name, "--rm", "--", "true"]
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errors)
        try process.run()
        func partials() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: Self.data + "/layers")) ?? []).filter {
                $0.hasPrefix(".partial-")
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while partials().isEmpty && process.isRunning && Date() < deadline { usleep(5_000) }
        XCTAssertFalse(partials().isEmpty, "the unpack began")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let said = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 128 + SIGTERM, said)
        XCTAssertTrue(said.contains("stopped by SIGTERM"), said)
        XCTAssertEqual(partials(), [], "the half-unpacked layer was removed")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: Self.data + "/containers/" + name),
            "the container's directory was removed")
        XCTAssertFalse(try contlab(["container", "list"]).stdout.contains(name))
    }

    func testCopyOnWriteLeavesTheImageUntouched() throws {
        let layers = Self.data + "/layers"
        try expectSuccess(["run", "--stage", "5", "--image", "busybox", "--name", "cow", "--", "true"])
        let before = treeDigest(layers)
        let run = try expectSuccess([
            "run", "--stage", "5", "--image", "busybox", "--name", "cow2", "--", "sh", "-c",
            "echo new > /new && echo more >> /etc/passwd && rm /bin/vi && mv /etc/hostname /etc/renamed 2>/dev/null "
                + "|| mv /etc/group /etc/renamed; ls /bin/vi 2>&1; cat /new"
        ])
        XCTAssertTrue(run.stdout.contains("new"), run.stdout)
        XCTAssertEqual(treeDigest(layers), before, "lower layers are byte-for-byte what they were")
        let diff = try expectSuccess(["diff", "cow2"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(diff.contains("A /new"), "\(diff)")
        XCTAssertTrue(diff.contains("C /etc/passwd"), "\(diff)")
        XCTAssertTrue(diff.contains("D /bin/vi"), "\(diff)")
        XCTAssertTrue(diff.contains("A /etc/renamed"), "\(diff)")
        var info = stat()
        XCTAssertEqual(lstat(Self.data + "/containers/cow2/upper/bin/vi", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "the deletion is overlayfs's whiteout, a character device")
        XCTAssertEqual(info.st_rdev, 0)
        // The same container as data and as a stack: /bin/vi deleted by a whiteout, /etc/passwd
        // read from upper, /bin/sh falling through to the image's layer.
        let json = try expectSuccess(["diff", "--json", "cow2"]).stdout
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(report["rows"] as? [[String: Any]])
        func row(_ path: String) -> [String: Any]? { rows.first { $0["path"] as? String == path } }
        XCTAssertEqual(row("/bin/vi")?["upper"] as? String, "whiteout", "\(rows)")
        XCTAssertEqual(row("/bin/vi")?["layers"] as? [Bool], [true])
        XCTAssertEqual(row("/etc/passwd")?["upper"] as? String, "file")
        XCTAssertEqual(row("/new")?["layers"] as? [Bool], [false])
        XCTAssertNil(row("/bin/sh")?["upper"], "untouched: \(rows)")
        XCTAssertNil(row("/etc"), "a directory that only holds a change is not a row")
        let drawn = try expectSuccess(["diff", "--diagram", "--color", "never", "cow2"]).stdout
        let saved = Self.data + "/cow2-overlay.json"
        try json.write(toFile: saved, atomically: true, encoding: .utf8)
        XCTAssertEqual(
            try expectSuccess(["diff", "--diagram", "--color", "never", "--from", saved]).stdout, drawn,
            "a saved report draws the same")
        XCTAssertTrue(drawn.contains("✗ whiteout") && drawn.contains("↑ upper") && drawn.contains("↑ layer 1"), drawn)
        let refused = try contlab(["diff", "--from", saved])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("add --diagram"), refused.stderr)
        let other = try contlab([
            "run", "--stage", "5", "--image", "busybox", "--rm", "--", "sh", "-c", "test ! -e /new && test -e /bin/vi"
        ])
        XCTAssertEqual(
            other.status, 0, "another container sees the image, not the first container's writes: \(other.stderr)")
        try expectSuccess(["container", "rm", "cow", "cow2"])
    }

    func testCommitThenRunAndUnpackTheNewImage() throws {
        try expectSuccess([
            "run", "--stage", "5", "--image", "busybox", "--name", "tocommit", "--", "sh", "-c",
            "echo committed > /etc/motd-lab && rm -r /usr/sbin"
        ])
        try expectSuccess(["commit", "tocommit", "lab/committed:v1"])
        let history = try expectSuccess(["image", "history", "lab/committed:v1"]).stdout
        XCTAssertTrue(history.contains("contlab commit tocommit"), history)
        XCTAssertEqual(history.split(separator: "\n").count, 3, "two layers: the base and the commit\n\(history)")
        let run = try contlab([
            "run", "--stage", "5", "--image", "lab/committed:v1", "--rm", "--", "sh", "-c",
            "cat /etc/motd-lab; test ! -e /usr/sbin"
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "committed\n")
        let bundle = Self.data + "/bundle-commit"
        try expectSuccess(["image", "unpack", "lab/committed:v1", bundle])
        XCTAssertEqual(try String(contentsOfFile: bundle + "/rootfs/etc/motd-lab", encoding: .utf8), "committed\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle + "/rootfs/usr/sbin"), "the whiteout was applied")
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle + "/rootfs/usr/.wh.sbin"))
        let runc = try Harness.execute(["/usr/sbin/runc", "run", "--bundle", bundle, "stage5-runc-\(getpid())"])
        XCTAssertEqual(runc.status, 0, "runc runs contlab's unpacked bundle: \(runc.stderr)")
        try expectSuccess(["container", "rm", "tocommit"])
        let removal = try contlab(["image", "rm", "busybox:latest"])
        XCTAssertEqual(removal.status, 0, removal.stderr)
        XCTAssertEqual(
            try contlab(["run", "--stage", "5", "--image", "lab/committed:v1", "--rm", "--", "true"]).status, 0,
            "the base's layer stays while an image that stacks on it remains")
        try expectSuccess(["image", "rm", "lab/committed:v1"])
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: Self.data + "/images/blobs/sha256"), [],
            "no blob left once no image needs it")
    }

    func testUmociAndSkopeoReadContlabImages() throws {
        let layout = Self.data + "/export-dir", archive = Self.data + "/export.tar"
        try expectSuccess(["image", "export", "busybox:latest", layout])
        try expectSuccess(["image", "export", "busybox:latest", archive])
        let skopeo = try Harness.execute(["/usr/bin/skopeo", "inspect", "oci-archive:" + archive])
        XCTAssertEqual(skopeo.status, 0, skopeo.stderr)
        let manifest = try expectSuccess(["image", "inspect", "busybox:latest"]).stdout
        let digest =
            (try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])?["digest"] as? String
        XCTAssertNotNil(digest)
        XCTAssertTrue(skopeo.stdout.contains(digest ?? "-"), "skopeo sees the same manifest digest\n\(skopeo.stdout)")
        let bundle = Self.data + "/umoci-bundle"
        let umoci = try Harness.execute(["/usr/bin/umoci", "unpack", "--image", layout + ":busybox:latest", bundle])
        XCTAssertEqual(umoci.status, 0, umoci.stderr)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: bundle + "/rootfs/bin/busybox"))
    }

    /// oci-layout, index.json, the manifest and the config of a two-layer image, checked against
    /// image-spec's own schemas (Debian's golang-github-opencontainers-image-spec-dev, 1.1.0-rc2 in
    /// bookworm) with Python's jsonschema.
    func testDocumentsValidateAgainstImageSpecSchemas() throws {
        let schemas = Harness.imageSpecSchemas
        guard FileManager.default.fileExists(atPath: schemas + "/image-manifest-schema.json") else {
            return XCTFail(
                "no image-spec schemas in \(schemas): install golang-github-opencontainers-image-spec-dev (make setup)")
        }
        try expectSuccess(["run", "--stage", "5", "--image", "busybox", "--name", "schema", "--", "touch", "/x"])
        try expectSuccess(["commit", "schema", "schema:v1"])
        try expectSuccess(["container", "rm", "schema"])
        let layout = Self.data + "/schema-layout"
        try expectSuccess(["image", "export", "schema:v1", layout])
        let script = """
            import json, pathlib, sys
            from jsonschema import Draft4Validator, RefResolver
            d = pathlib.Path(sys.argv[1]); layout = pathlib.Path(sys.argv[2])
            local = lambda url: json.load(open(d / url.rsplit('/', 1)[-1]))
            def check(schema_name, doc, label):
                schema = json.load(open(d / schema_name))
                r = RefResolver(d.as_uri() + '/', schema, handlers={'https': local, 'http': local})
                errors = [f"{label}: {list(e.path)}: {e.message}" for e in Draft4Validator(schema, resolver=r).iter_errors(doc)]
                print("\\n".join(errors)); return not errors
            blob = lambda desc: json.load(open(layout / 'blobs' / 'sha256' / desc['digest'].split(':')[1]))
            index = json.load(open(layout / 'index.json'))
            manifest = blob(index['manifests'][0])
            ok = all([check('image-layout-schema.json', json.load(open(layout / 'oci-layout')), 'oci-layout'),
                      check('image-index-schema.json', index, 'index.json'),
                      check('image-manifest-schema.json', manifest, 'manifest'),
                      check('config-schema.json', blob(manifest['config']), 'config'),
                      len(manifest['layers']) == 2])
            sys.exit(0 if ok else 1)
            """
        let result = try Harness.execute([
            "/usr/bin/python3", "-W", "ignore::DeprecationWarning", "-c", script, schemas, layout
        ])
        XCTAssertFalse(result.stderr.contains("No module named"), "python3 needs jsonschema (python3-jsonschema)")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        try expectSuccess(["image", "rm", "schema:v1"])
    }

    func testAnImageMadeByUmociRunsUnderContlab() throws {
        let layout = Self.data + "/umoci-made", bundle = Self.data + "/umoci-work"
        for argv in [
            ["init", "--layout", layout], ["new", "--image", layout + ":base"],
            ["unpack", "--image", layout + ":base", bundle]
        ] {
            let result = try Harness.execute(["/usr/bin/umoci"] + argv)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let tree = try Harness.busyboxRootfs()
        XCTAssertEqual(try Harness.execute(["/bin/cp", "-a", tree + "/.", bundle + "/rootfs/"]).status, 0)
        for argv in [
            ["repack", "--image", layout + ":base", bundle],
            ["config", "--image", layout + ":base", "--config.cmd", "/bin/echo", "--config.cmd", "made by umoci"]
        ] {
            let result = try Harness.execute(["/usr/bin/umoci"] + argv)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        try expectSuccess(["image", "import", "--tag", "fromumoci:v1", layout])
        let run = try contlab(["run", "--stage", "5", "--image", "fromumoci:v1", "--rm"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "made by umoci\n")
        try expectSuccess(["image", "rm", "fromumoci:v1"])
    }

    func testTamperedBlobsAreRefusedAndNothingIsLeft() throws {
        let layout = Self.data + "/tamper"
        try expectSuccess(["image", "export", "busybox:latest", layout])
        let inspect =
            try JSONSerialization.jsonObject(
                with: Data(try expectSuccess(["image", "inspect", "busybox:latest"]).stdout.utf8)) as? [String: Any]
        let layer =
            (((inspect?["manifest"] as? [String: Any])?["layers"] as? [[String: Any]])?.first?["digest"] as? String)
            ?? ""
        let blob = layout + "/blobs/sha256/" + layer.dropFirst("sha256:".count)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: blob))
        bytes[bytes.count / 2] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: blob))
        let result = try contlab(["image", "import", "--tag", "tampered:v1", layout])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(
            result.stderr.contains("expected " + layer) && result.stderr.contains("found sha256:"), result.stderr)
        XCTAssertFalse(try contlab(["image", "list", "-q"]).stdout.contains("tampered"))
    }

    /// A layer built by hand (as an attacker would) that climbs out, is absolute, or writes
    /// through a symlink: refused, naming the entry, with no partial bundle or layer.
    func testLayersThatEscapeTheRootAreRefused() throws {
        let cases: [(String, String)] = [
            (
                "climb",
                "import tarfile,io\ndef add(t,name,data=b'x'):\n i=tarfile.TarInfo(name); i.size=len(data); "
                    + "t.addfile(i,io.BytesIO(data))\nadd(t,'../escaped')"
            ),
            (
                "absolute",
                "import tarfile,io\ndef add(t,name,data=b'x'):\n i=tarfile.TarInfo(name); i.size=len(data); "
                    + "t.addfile(i,io.BytesIO(data))\nadd(t,'/etc/escaped')"
            ),
            (
                "through-link",
                "import tarfile,io\ni=tarfile.TarInfo('link'); i.type=tarfile.SYMTYPE; i.linkname='/tmp'; "
                    + "t.addfile(i)\nj=tarfile.TarInfo('link/escaped-\(getpid())'); j.size=1; "
                    + "t.addfile(j,io.BytesIO(b'x'))"
            )
        ]
        for (name, body) in cases {
            let layout = Self.data + "/evil-" + name
            let script = """
                import hashlib,json,os,io,tarfile,gzip
                os.makedirs('\(layout)/blobs/sha256', exist_ok=True)
                buf=io.BytesIO()
                t=tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT)
                \(body)
                t.close()
                tar=buf.getvalue(); gz=gzip.compress(tar, mtime=0)
                def put(b):
                    d=hashlib.sha256(b).hexdigest(); open('\(layout)/blobs/sha256/'+d,'wb').write(b); return d
                layer=put(gz)
                cfg=json.dumps({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:"+hashlib.sha256(tar).hexdigest()]}}).encode()
                c=put(cfg)
                man=json.dumps({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:"+c,"size":len(cfg)},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:"+layer,"size":len(gz)}]}).encode()
                m=put(man)
                json.dump({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:"+m,"size":len(man),"annotations":{"org.opencontainers.image.ref.name":"evil:\(name)"}}]}, open('\(layout)/index.json','w'))
                open('\(layout)/oci-layout','w').write('{"imageLayoutVersion":"1.0.0"}')
                """
            let made = try Harness.execute(["/usr/bin/python3", "-c", script])
            XCTAssertEqual(made.status, 0, made.stderr)
            try expectSuccess(["image", "import", layout])
            let bundle = Self.data + "/evil-bundle-" + name
            let unpack = try contlab(["image", "unpack", "evil:" + name, bundle])
            XCTAssertNotEqual(unpack.status, 0, "\(name) was unpacked")
            XCTAssertTrue(unpack.stderr.contains("refusing to unpack"), "\(name): \(unpack.stderr)")
            XCTAssertEqual(
                (try? FileManager.default.contentsOfDirectory(atPath: bundle)) ?? [], [],
                "\(name): nothing half-unpacked")
            let run = try contlab(["run", "--stage", "5", "--image", "evil:" + name, "--rm", "--", "true"])
            XCTAssertNotEqual(run.status, 0)
            XCTAssertFalse(
                ((try? FileManager.default.contentsOfDirectory(atPath: Self.data + "/layers")) ?? []).contains {
                    $0.hasPrefix(".partial")
                })
            try expectSuccess(["image", "rm", "evil:" + name])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/escaped"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/escaped-\(getpid())"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/etc/escaped"))
    }

    /// A running container is not removed under it; --force kills it first, and a record left
    /// by a killed run does not block its name.
    func testRemovingARunningContainerNeedsForce() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary)
        process.arguments = ["run", "--stage", "5", "--image", "busybox", "--name", "busy", "--", "sleep", "60"]
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var listed = ""
        for _ in 0..<100 where !listed.contains("busy") {
            usleep(50_000)
            listed = (try? contlab(["container", "list"]).stdout) ?? ""
        }
        usleep(300_000)
        let refused = try contlab(["container", "rm", "busy"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("is running"), refused.stderr)
        try expectSuccess(["container", "rm", "--force", "busy"])
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 137, "the container was killed")
        try expectSuccess(["run", "--stage", "5", "--image", "busybox", "--name", "busy", "--rm", "--", "true"])
    }

    func testFiftyRunsLeaveNoOverlayMountsOrContainers() throws {
        let mounts = overlayMounts()
        for _ in 0..<50 {
            let result = try contlab(["run", "--stage", "5", "--image", "busybox", "--rm", "--", "true"])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        XCTAssertEqual(overlayMounts(), mounts)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: Self.data + "/containers")) ?? [], [])
    }

    /// Without root: layers unpacked as the user (overlay's `user.` xattrs, whiteouts an
    /// unprivileged user may make), and the overlay mounted inside the container's user namespace.
    func testRootlessRunDiffAndCommit() throws {
        let home = Self.data + "/rootless-home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.execute(["/bin/cp", "-a", try Harness.busyboxRootfs(), home + "/tree"]).status, 0)
        XCTAssertEqual(try Harness.execute(["/bin/chown", "-R", "65534:65534", home]).status, 0)
        let env = ["HOME": home, "XDG_DATA_HOME": home + "/data", "CONTLAB_DATA": "", "XDG_RUNTIME_DIR": ""]
        func rootless(_ args: [String]) throws -> Harness.Result {
            try Harness.run(args, as: 65534, environment: env)
        }
        let build = try rootless(["image", "build", "--dir", home + "/tree", "mine"])
        XCTAssertEqual(build.status, 0, build.stderr + build.stdout)
        let run = try rootless([
            "run", "--stage", "5", "--image", "mine", "--name", "rl", "--", "sh", "-c",
            "rm /bin/ls && rm -r /etc && mkdir /etc && echo hi > /etc/only && id -u"
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "0\n", "root inside the user namespace")
        let diff = try rootless(["diff", "rl"]).stdout
        XCTAssertTrue(diff.contains("D /bin/ls") && diff.contains("A /etc/only"), diff)
        XCTAssertTrue(
            try rootless(["diff", "--upper", "rl"]).stdout.contains("opaque"), "rm -r then mkdir made /etc opaque")
        XCTAssertEqual(try rootless(["commit", "rl", "mine:2"]).status, 0)
        let again = try rootless([
            "run", "--stage", "5", "--image", "mine:2", "--rm", "--", "sh", "-c", "ls /etc; test ! -e /bin/ls"
        ])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout, "only\n", "the opaque directory hides the base layer's /etc")
        let removal = try rootless(["container", "rm", "rl"])
        XCTAssertEqual(removal.status, 0, removal.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: home + "/data/contlab/containers/rl"))
    }
}
