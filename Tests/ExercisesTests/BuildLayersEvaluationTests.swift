import Foundation
import XCTest

@testable import Exercises

/// B.5, judged from what the command saw inside and what the driver found on disk afterwards:
/// each mistake a student makes fails its own checks and no others.
final class BuildLayersEvaluationTests: XCTestCase {
    let request = Evaluation.LayersRequest(baseToken: "base-1", appToken: "app-1", written: "w-1")

    /// A full-marks run, as the reference runtimes leave it; `changes` replaces lines, and a
    /// value of nil removes one.
    func report(_ changes: [String: String?] = [:], mountinfo: [String]? = nil) -> ProbeOutput {
        var lines: [String: String] = [
            "first_layer": "app", "first_baseonly": "base-1", "first_appfile": "app-1", "first_wrote": "0",
            "first_removed": "0", "first_doomed": "absent",
            "second_layer": "app", "second_baseonly": "base-1", "second_appfile": "app-1", "second_written": "",
            "second_doomed": "present",
            "first_status": "0", "first_said": "", "first_leftmounts": "", "first_leftprocs": "",
            "second_status": "0", "second_said": "", "second_leftmounts": "", "second_leftprocs": "",
            "upper_list": "doomed shared.txt written", "upper_written": "w-1", "upper_shared": "original|w-1|",
            "upper_doomed": "character special file 0:0", "lower_base": "same", "lower_app": "same",
            "lower_written": "", "lower_doomed": "present", "lower_shared": "original|", "built": "0"
        ]
        for (key, value) in changes { lines[key] = value }
        let table =
            mountinfo ?? [
                "60 59 0:45 / / rw,relatime - overlay overlay rw,lowerdir=/tmp/layers/app:/tmp/layers/base",
                "61 60 0:46 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw"
            ]
        let text =
            (["mountinfo-begin"] + table + ["mountinfo-end"] + lines.keys.sorted().map { "\($0)=\(lines[$0]!)" })
            .joined(separator: "\n") + "\n"
        return ProbeOutput.parse(text)
    }

    func failing(_ probe: ProbeOutput) -> [String] {
        Evaluation.buildLayers(probe: probe, request: request).filter { !$0.passed }.map(\.check)
    }

    func testTheReferenceScoresFullMarks() {
        let outcomes = Evaluation.buildLayers(probe: report(), request: request)
        XCTAssertEqual(outcomes.map(\.check), Evaluation.layersChecks)
        XCTAssertEqual(outcomes.filter { !$0.passed }.map(\.check), [], "\(outcomes)")
    }

    func testLayersInManifestOrderPutTheBaseOnTop() {
        let probe = report(["first_layer": "base", "second_layer": "base"])
        XCTAssertEqual(failing(probe), ["layer-order"])
        let seen = Evaluation.buildLayers(probe: probe, request: request)[0].seen
        XCTAssertTrue(seen.contains("lists the topmost first"), seen)
    }

    func testAMissingLayerFailsTheOrder() {
        XCTAssertEqual(failing(report(["first_baseonly": "cat: can't open '/base-only'"])), ["layer-order"])
    }

    func testTheTopLayerAsUpperdirWritesIntoALayer() {
        let probe = report([
            "upper_list": "", "upper_written": "", "upper_shared": "", "upper_doomed": "", "lower_app": "changed",
            "lower_written": "app", "lower_shared": "original|w-1|"
        ])
        XCTAssertEqual(failing(probe), ["writes-in-upper", "whiteout", "layers-untouched"])
        let untouched = Evaluation.buildLayers(probe: probe, request: request)[4].seen
        XCTAssertTrue(untouched.contains("/written is in app"), untouched)
    }

    func testAMountLeftInTheRuntimesNamespaceFailsOnlyTheCleanUp() {
        let probe = report(["first_leftmounts": "/tmp/first/rootfs", "second_leftmounts": "/tmp/second/rootfs"])
        XCTAssertEqual(failing(probe), ["cleaned-up"])
        let seen = Evaluation.buildLayers(probe: probe, request: request)[5].seen
        XCTAssertTrue(seen.contains("after the first run, still mounted"), seen)
    }

    func testAProcessLeftBehindAndAHangFailTheCleanUp() {
        XCTAssertEqual(failing(report(["second_leftprocs": "77"])), ["cleaned-up"])
        let hung = report(["second_status": "137", "second_hung": "yes"])
        XCTAssertEqual(failing(hung), ["cleaned-up"])
    }

    func testACopiedRootIsNoOverlay() {
        // A runtime that copies the layers into ROOTFS: the view is right, but the root is the
        // grader's tmpfs and the changes stay in ROOTFS.
        let probe = report(
            ["upper_list": "", "upper_written": "", "upper_shared": "", "upper_doomed": ""],
            mountinfo: ["60 59 0:45 /tmp/first/rootfs / rw - tmpfs tmpfs rw"])
        XCTAssertEqual(failing(probe), ["overlay-root", "writes-in-upper", "whiteout"])
    }

    func testAReadOnlyOverlayCannotWrite() {
        let probe = report([
            "first_wrote": "1", "first_removed": "1", "first_doomed": "present", "upper_list": "",
            "upper_written": "", "upper_shared": "", "upper_doomed": ""
        ])
        XCTAssertEqual(failing(probe), ["writes-in-upper", "whiteout"])
        let outcomes = Evaluation.buildLayers(probe: probe, request: request)
        XCTAssertTrue(outcomes[2].seen.contains("could not write"), outcomes[2].seen)
        XCTAssertTrue(outcomes[3].seen.contains("rm /doomed left it"), outcomes[3].seen)
    }

    func testNoProcInTheNewRootIsSaid() {
        let seen = Evaluation.buildLayers(probe: report(mountinfo: []), request: request)[1].seen
        XCTAssertTrue(seen.contains("no /proc"), seen)
    }

    func testARuntimeThatNeverRanFailsEverythingWithWhy() {
        var lines = report().values
        for key in lines.keys where key.hasPrefix("first_") || key.hasPrefix("second_") { lines[key] = nil }
        lines["first_status"] = "1"
        lines["first_said"] = "runtime: run is not written yet"
        lines["upper_list"] = ""
        lines["upper_written"] = ""
        lines["upper_shared"] = ""
        lines["upper_doomed"] = ""
        let outcomes = Evaluation.buildLayers(probe: ProbeOutput(values: lines), request: request)
        XCTAssertEqual(outcomes.filter(\.passed).map(\.check), [])
        XCTAssertTrue(outcomes[0].seen.contains("not written yet"), outcomes[0].seen)
    }

    func testAFailedBuildFailsEveryCheck() {
        let probe = ProbeOutput.parse("built=1\nbuildlog=runtime.c:3: error\n")
        let outcomes = Evaluation.buildLayers(probe: probe, request: request)
        XCTAssertEqual(outcomes.count, Evaluation.layersChecks.count)
        XCTAssertTrue(outcomes.allSatisfy { !$0.passed && $0.seen.contains("build failed") })
    }
}
