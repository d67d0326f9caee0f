import ContlabCore
import XCTest
@testable import OCI
@testable import Stage4OCI

/// `contlab-runc --version` and `--help`, as engines and people read them.
final class RuncVersionTests: XCTestCase {
    func testVersionHasRuncsShape() throws {
        let lines = RuncMain.version.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], "contlab-runc version \(ContlabVersion.current)")
        XCTAssertTrue(lines[1].hasPrefix("commit: "), "runc's second line, which runc's version.bats reads")
        XCTAssertEqual(lines[2], "spec: 1.2.1")
        XCTAssertEqual(DefaultSpec.ociVersion, "1.2.1")
        // Docker splits the first line at "version" for the runtime's name and its version.
        let first = RuncMain.version.split(separator: "\n")[0].components(separatedBy: "version")
        XCTAssertEqual(first.map { $0.trimmingCharacters(in: .whitespaces) }, ["contlab-runc", ContlabVersion.current])
    }

    func testVersionFlagsAsRuncTakesThem() throws {
        for arguments in [["--version"], ["-v"], ["--root", "/tmp/r", "--version"]] {
            XCTAssertEqual(try RuncCommandLine.parse(arguments).verb, .version, "\(arguments)")
        }
    }

    func testHelpFitsEightyColumns() {
        for line in RuncHelp.main.split(separator: "\n") {
            XCTAssertLessThanOrEqual(line.count, 80, String(line))
        }
        XCTAssertTrue(RuncHelp.main.contains("--version"))
        for command in RuncHelp.commands {
            for line in command.options { XCTAssertLessThanOrEqual(line.count + 3, 80, line) }
        }
    }

    /// runc's layout, as its help.bats reads it: NAME: on the first line, the name and a dash on
    /// the second, for the runtime and for each command; an unknown topic is an error.
    func testHelpHasRuncsLayout() throws {
        for arguments in [["--help"], ["-h"], ["help"], []] {
            XCTAssertEqual(try RuncCommandLine.parse(arguments).verb, .help(topic: nil), "\(arguments)")
        }
        let main = RuncHelp.main.split(separator: "\n")
        XCTAssertEqual(main[0], "NAME:")
        XCTAssertTrue(main[1].contains("contlab-runc - Open Container Initiative runtime"), String(main[1]))
        for name in [
            "checkpoint", "delete", "events", "exec", "kill", "list", "pause", "restore", "resume", "spec", "start",
            "run", "state", "update"
        ] {
            for flag in ["-h", "--help"] {
                XCTAssertEqual(try RuncCommandLine.parse([name, flag]).verb, .help(topic: name), "\(name) \(flag)")
            }
            let screen = try XCTUnwrap(RuncHelp.screen(name)).split(separator: "\n")
            XCTAssertEqual(screen[0], "NAME:")
            XCTAssertTrue(screen[1].hasPrefix("   contlab-runc \(name) - "), String(screen[1]))
        }
        XCTAssertEqual(try RuncCommandLine.parse(["help", "kill"]).verb, .help(topic: "kill"))
        XCTAssertThrowsError(try RuncCommandLine.parse(["foo", "-h"])) {
            XCTAssertTrue("\($0)".contains("No help topic for 'foo'"))
        }
        // After exec's id, -h belongs to the command being run.
        XCTAssertEqual(
            try RuncCommandLine.parse(["exec", "c1", "ls", "-h"]).verb,
            .exec(.init(id: "c1", args: ["ls", "-h"])))
    }
}

/// `contlab-runc features`: every name it lists is one contlab acts on, and what it refuses is
/// listed as disabled or not at all.
final class FeaturesTests: XCTestCase {
    func testFeaturesListOnlyWhatIsImplemented() throws {
        let features = Features.current()
        XCTAssertEqual(features.ociVersionMax, DefaultSpec.ociVersion)
        XCTAssertEqual(
            features.hooks, ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
        for option in features.mountOptions {
            XCTAssertTrue(
                MountOptions.setting[option] != nil || MountOptions.clearing[option] != nil
                    || MountOptions.propagations[option] != nil
                    || MountOptions.recursive.contains(option),
                "\(option) is listed but has no meaning to contlab")
        }
        let linux = features.linux
        XCTAssertEqual(
            Set(linux.namespaces), SpecCheck.namespaceTypes.subtracting(["time"]), "time namespaces are refused")
        for action in linux.seccomp.actions { XCTAssertNotNil(SeccompNames.action(action, errnoRet: nil), action) }
        XCTAssertTrue(linux.seccomp.actions.contains("SCMP_ACT_NOTIFY"), "listenerPath is implemented")
        XCTAssertEqual(features.annotations["org.contlab.seccomp.listenerPath"], "true")
        for op in linux.seccomp.operators { XCTAssertNotNil(SeccompNames.comparison(op), op) }
        for arch in linux.seccomp.archs { XCTAssertNotNil(SeccompNames.architecture(arch), arch) }
        XCTAssertEqual(linux.seccomp.supportedFlags, [], "filter flags are refused")
        XCTAssertFalse(linux.cgroup.systemd || linux.cgroup.systemdUser || linux.cgroup.rdma)
        XCTAssertFalse(
            linux.apparmor.enabled || linux.selinux.enabled || linux.intelRdt.enabled
                || linux.mountExtensions.idmap.enabled)
        // Each refusal the features document claims, config.json gets.
        let base = #""ociVersion":"1.2.1","root":{"path":"r"}"#
        XCTAssertThrowsError(
            try SpecCheck.decode(
                Data(
                    #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"]}}}"#
                        .utf8)))
        XCTAssertThrowsError(try SpecCheck.decode(Data(#"{\#(base),"linux":{"intelRdt":{"closID":"x"}}}"#.utf8)))
        XCTAssertThrowsError(
            try SpecCheck.decode(
                Data(
                    #"{\#(base),"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"apparmorProfile":"p"}}"#
                        .utf8)))
    }
}
