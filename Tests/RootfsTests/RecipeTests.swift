import XCTest
@testable import Rootfs

final class RecipeTests: XCTestCase {
    func testParsesTheShippedRecipes() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../rootfs-recipes").standardizedFileURL
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertTrue(names.contains("busybox.yaml"))
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            let recipe = try Recipe.parse(text, file: name)
            XCTAssertEqual(recipe.name + ".yaml", name, "a recipe's name matches its file")
        }
    }

    func testBusyboxRecipeMakesTheMountPointsStage2Needs() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../rootfs-recipes")
        let recipe = try Recipe.parse(
            try String(contentsOf: dir.appendingPathComponent("busybox.yaml"), encoding: .utf8), file: "busybox.yaml")
        let dirs = Set((recipe.directories ?? []).map { Recipe.splitDirectory($0).path })
        XCTAssertTrue(dirs.isSuperset(of: ["/proc", "/sys", "/dev", "/tmp"]))
        XCTAssertEqual(Recipe.splitDirectory("/tmp 1777").mode, 0o1777)
        XCTAssertNotNil(recipe.files?["/etc/passwd"])
    }

    func testRefusesPathsOutsideTheTree() {
        let text = "name: bad\nsummary: x\nfiles:\n  /etc/../../etc/shadow: nope\n"
        XCTAssertThrowsError(try Recipe.parse(text, file: "bad.yaml")) { error in
            XCTAssertEqual(error as? RecipeError, .pathOutsideTree("bad.yaml", "/etc/../../etc/shadow"))
        }
        let relative = "name: bad\nsummary: x\npackages:\n  - name: busybox-static\n    files: [bin/busybox]\n"
        XCTAssertThrowsError(try Recipe.parse(relative, file: "bad.yaml"))
    }

    func testNamesAMissingField() {
        XCTAssertThrowsError(try Recipe.parse("name: x\nfiles: {}\n", file: "x.yaml")) { error in
            XCTAssertTrue("\(error)".contains("summary"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("x.yaml"))
        }
        XCTAssertThrowsError(try Recipe.parse("name: x\nsummary: nothing\n", file: "x.yaml"))
    }

    func testParsesLddOutput() {
        let text = """
            \tlinux-vdso.so.1 (0x00007ffd0b5f2000)
            \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1c2a000000)
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c29e00000)
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f1c2a1b0000)
            \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1c2a000000)
            """
        XCTAssertEqual(
            sharedLibraries(fromLddOutput: text),
            [
                "/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"
            ])
        XCTAssertEqual(sharedLibraries(fromLddOutput: "\tnot a dynamic executable\n"), [])
    }
}
