import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import TextKit
import XCTest
@testable import Cgroups
@testable import Stage3Cgroups

/// `contlab run --stage 3 --diagram`: the tree a run's cgroup makes in a hybrid (v1) and a pure
/// v2 hierarchy, where each write and counter is drawn, and the drawing in stage 3's lesson.
final class CgroupDiagramTests: XCTestCase {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../lessons"
    ).standardizedFileURL

    func saved() throws -> Stage3Run.Report {
        let data = try Data(contentsOf: Self.lessons.appendingPathComponent("diagrams/stage3-cgroups.json"))
        return try Stage3Run.Report.decode(data)
    }

    /// A host like this lab's: v1 memory, pids and a shared cpu,cpuacct mount, and a cgroup2
    /// mount that holds only hugetlb.
    static let hybrid = CgroupHierarchy(
        v1: [
            "memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids",
            "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct"
        ],
        v2: "/sys/fs/cgroup/unified", v2Controllers: ["hugetlb"])

    static func report(limits: CgroupLimits, stats: CgroupStats, writes: [String], tree: CgroupTree?)
        -> Stage3Run.Report
    {
        Stage3Run.Report(
            limits: limits, stats: stats, exit: "the command was killed by SIGKILL (exit code 137)", exitCode: 137,
            oomKilled: (stats.oomKills ?? 0) > 0, hierarchy: "test", placements: [], writes: writes,
            evidenceFiles: [], notes: [], tree: tree)
    }

    func v2Report() -> Stage3Run.Report {
        let hierarchy = CgroupHierarchy(v1: [:], v2: "/sys/fs/cgroup", v2Controllers: ["cpu", "io", "memory", "pids"])
        let path = "contlab/run-7-ab"
        let tree = CgroupTree.of(
            hierarchy: hierarchy, path: path,
            directories: [
                .init(path: "/sys/fs/cgroup/" + path, version: 2, controllers: ["memory", "pids"])
            ])
        let writes = [
            "/sys/fs/cgroup/cgroup.subtree_control = +memory +pids",
            "/sys/fs/cgroup/contlab/cgroup.subtree_control = +memory +pids",
            "/sys/fs/cgroup/contlab/run-7-ab/memory.max = 67108864",
            "/sys/fs/cgroup/contlab/run-7-ab/memory.swap.max = 0",
            "/sys/fs/cgroup/contlab/run-7-ab/pids.max = 64", "/sys/fs/cgroup/contlab/run-7-ab/cgroup.procs = 4242"
        ]
        return Self.report(
            limits: CgroupLimits(memoryBytes: 64 << 20, pids: 64),
            stats: CgroupStats(memoryPeak: 64 << 20, memoryLimitHits: 9, oomKills: 1, pidsLimitHits: 0, pidsPeak: 3),
            writes: writes, tree: tree)
    }

    func testTheTreeListsEachMountOnceUsedOnesFirst() {
        let tree = CgroupTree.of(
            hierarchy: Self.hybrid, path: "contlab/run-1-a",
            directories: [
                .init(path: "/sys/fs/cgroup/pids/contlab/run-1-a", version: 1, controllers: ["pids"]),
                .init(path: "/sys/fs/cgroup/memory/contlab/run-1-a", version: 1, controllers: ["memory"])
            ])
        XCTAssertEqual(
            tree.hierarchies.map(\.mountPoint),
            [
                "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory",
                "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/unified"
            ])
        XCTAssertEqual(tree.hierarchies[2].controllers, ["cpu", "cpuacct"], "one mount, both of its controllers")
        XCTAssertEqual(tree.hierarchies[2].used, [])
        XCTAssertEqual(tree.hierarchies[3].version, 2)
        XCTAssertEqual(tree.hierarchies[3].controllers, ["hugetlb"])
    }

    func testV2WritesLandOnTheirDirectoriesAndCountersNameV2Files() throws {
        let diagram = try XCTUnwrap(CgroupDiagram(report: v2Report()))
        let hierarchy = try XCTUnwrap(diagram.usedHierarchies.first)
        let nodes = diagram.nodes(hierarchy)
        XCTAssertEqual(nodes.map(\.name), ["/", "contlab", "run-7-ab"])
        XCTAssertEqual(nodes.map(\.isContainer), [false, false, true])
        XCTAssertEqual(
            nodes[0].writes, [.init(file: "cgroup.subtree_control", value: "+memory +pids")],
            "the root hands the controllers down")
        XCTAssertEqual(nodes[1].writes.map(\.file), ["cgroup.subtree_control"])
        XCTAssertEqual(nodes[2].writes.map(\.file), ["memory.max", "memory.swap.max", "pids.max", "cgroup.procs"])
        XCTAssertEqual(
            diagram.counters(hierarchy).map(\.file),
            ["memory.peak", "memory.events max", "memory.events oom_kill", "pids.peak", "pids.events max"])
        XCTAssertEqual(diagram.counters(hierarchy).filter(\.acted).map(\.kind), [.limitHits, .oomKills])
    }

    func testAReportWithoutTheTreeIsNoDiagramAndOldReportsStillRead() throws {
        let old =
            #"{"limits":{},"stats":{},"exit":"exit 0","exitCode":0,"oomKilled":false,"hierarchy":"v2","placements":[],"#
            + #""writes":[],"evidenceFiles":[],"notes":[]}"#
        let report = try Stage3Run.Report.decode(Data(old.utf8))
        XCTAssertNil(report.tree)
        XCTAssertNil(CgroupDiagram(report: report))
    }

    func testTheTextFitsEightyColumnsInALessonInBothVersionsAndLanguages() throws {
        for report in [try saved(), v2Report()] {
            let diagram = try XCTUnwrap(CgroupDiagram(report: report))
            for language in Language.allCases {
                let text = diagram.text(style: Style(enabled: false), language: language)
                XCTAssertFalse(text.contains("\u{1B}["), "no colour when it is off (NO_COLOR, --color never)")
                let lines = text.split(separator: "\n").map(String.init)
                for line in lines {
                    XCTAssertLessThanOrEqual(
                        Terminal.displayWidth(line), 76, "a lesson shows it 4 columns in, within 80: \(line)")
                    XCTAssertFalse(line.hasSuffix(" "), "no trailing blanks: \(line)")
                }
                let mark = language == .zh ? "◀ 容器的 cgroup" : "◀ the container's cgroup"
                XCTAssertEqual(lines.filter { $0.contains(mark) }.count, diagram.usedHierarchies.count, text)
                // Every value contlab wrote is in the drawing, under the directory it was written to.
                for write in report.writes {
                    let parts = write.components(separatedBy: " = ")
                    let file = (parts[0] as NSString).lastPathComponent, value = parts[1]
                    XCTAssertTrue(lines.contains { $0.contains(file + " = " + value) }, "\(write) in\n\(text)")
                }
            }
            XCTAssertTrue(diagram.text(style: Style(enabled: true), language: .en).contains("\u{1B}["))
        }
    }

    func testTheHybridRunSaysWhatItDidNotUse() throws {
        let diagram = try XCTUnwrap(CgroupDiagram(report: try saved()))
        let text = diagram.text(style: Style(enabled: false), language: .en)
        XCTAssertTrue(text.contains("not used by this run:"), text)
        XCTAssertTrue(text.contains("cgroup2 /sys/fs/cgroup/unified"), "the hybrid host's v2 tree is named: \(text)")
    }

    func testTheSVGIsWellFormedAndDrawsEachDirectoryWriteAndCounter() throws {
        for report in [try saved(), v2Report()] {
            let diagram = try XCTUnwrap(CgroupDiagram(report: report))
            for language in Language.allCases {
                let svg = diagram.svg(language: language)
                let parser = XMLParser(data: Data(svg.utf8))
                XCTAssertTrue(parser.parse(), "\(language): \(parser.parserError.map { "\($0)" } ?? "")")
                let used = diagram.usedHierarchies
                func count(_ marker: String) -> Int { svg.components(separatedBy: marker).count - 1 }
                XCTAssertEqual(count("class=\"hierarchy\""), used.count)
                XCTAssertEqual(count("class=\"cgroup container\""), used.count)
                XCTAssertEqual(count("class=\"cgroup"), used.map { diagram.nodes($0).count }.reduce(0, +))
                XCTAssertEqual(count("class=\"branch\""), used.map { diagram.nodes($0).count - 1 }.reduce(0, +))
                XCTAssertEqual(count("class=\"write\""), used.flatMap { diagram.nodes($0).flatMap(\.writes) }.count)
                XCTAssertEqual(count("class=\"counter\""), used.flatMap { diagram.counters($0) }.count)
            }
        }
    }

    /// The lesson shows the drawing as text in the terminal; it must be the saved report's.
    /// The run's end and notes come in the drawing's language, wrapped within the width (Chinese has no
    /// spaces to break at); a report saved before the Chinese ones were kept shows the English.
    func testNotesAreInTheDrawingsLanguage() throws {
        var report = try saved()
        let zh = try XCTUnwrap(CgroupDiagram(report: report)).text(style: Style(enabled: false), language: .zh)
        XCTAssertTrue(zh.contains("注：内存加交换区也受了限制"), zh)
        XCTAssertFalse(zh.contains("memory+swap is limited"), zh)
        XCTAssertTrue(zh.contains("结束：命令被 SIGKILL 杀死（退出码 137），被 OOM 杀死"), zh)
        XCTAssertTrue(zh.split(separator: "\n").allSatisfy { Terminal.displayWidth(String($0)) <= 76 }, zh)
        let svg = try XCTUnwrap(CgroupDiagram(report: report)).svg(language: .zh)
        XCTAssertTrue(svg.contains("内存加交换区"), "the SVG's notes too")
        report.notesZh = nil
        let older = try XCTUnwrap(CgroupDiagram(report: report)).text(style: Style(enabled: false), language: .zh)
        XCTAssertTrue(older.contains("注：memory+swap is limited too"), older)
    }

    func testTheLessonsDrawingIsTheSavedReports() throws {
        let diagram = try XCTUnwrap(CgroupDiagram(report: try saved()))
        for language in Language.allCases {
            let lesson = try String(
                contentsOf: Self.lessons.appendingPathComponent("\(language.rawValue)/stage3-cgroups.md"),
                encoding: .utf8)
            guard let start = lesson.range(of: "```diagram:stage3-cgroups.json\n"),
                let end = lesson.range(of: "\n```", range: start.upperBound..<lesson.endIndex)
            else {
                return XCTFail("\(language): stage 3's lesson has no diagram:stage3-cgroups.json block")
            }
            XCTAssertEqual(
                String(lesson[start.upperBound..<end.lowerBound]) + "\n",
                diagram.text(style: Style(enabled: false), language: language),
                "\(language): redraw it with contlab run --diagram --from lessons/diagrams/stage3-cgroups.json")
        }
    }
}
