import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import TextKit
import XCTest
@testable import Engines

/// `contlab engines chain`: the calls of one container read from contlab-runc's journal, the
/// chain drawn from them, and the drawing in stage 4's lesson.
final class CallChainTests: XCTestCase {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../lessons"
    ).standardizedFileURL

    static let a = String(repeating: "a1", count: 32), b = String(repeating: "b2", count: 32)

    /// Two containers' calls, as contlab-runc's journal writes them: a call, its callers, the
    /// init's system calls under create, how it ended.
    static let journal = """
        2026-12-06T01:00:00Z contlab-runc --journal /lab/calls.log --root /lab/exec/runtime-runc/contlab --log /lab/\(a)/log.json --log-format json create --bundle /lab/\(a) --pid-file /lab/\(a)/init.pid \(a)
        2026-12-06T01:00:00Z   caller: 300 /bin/sh /lab/exec/runtimes/contlab --root /lab/exec/runtime-runc/contlab create
        2026-12-06T01:00:00Z   caller's parent: 200 /usr/bin/containerd-shim-runc-v2 -namespace contlab -id \(a) -address /lab/exec/containerd/containerd.sock
        2026-12-06T01:00:00Z   its parent: 100 /usr/bin/containerd --config /lab/containerd.toml
        2026-12-06T01:00:00Z   nsexec container setup: contlab's init was cloned
        2026-12-06T01:00:00Z   init: mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)
        2026-12-06T01:00:00Z   init: pivot_root(".", ".")
        2026-12-06T01:00:00Z   init: sethostname("\(a.prefix(12))")
        2026-12-06T01:00:00Z   init: mount("proc", "/proc", "proc", 0, NULL)
        2026-12-06T01:00:00Z   init: closing the pipe to signal completion: the init reported ready to the runtime
        2026-12-06T01:00:00Z   → exit 0
        2026-12-06T01:00:01Z contlab-runc --journal=/lab/calls.log --root /lab/exec/runtime-runc/contlab start \(a)
        2026-12-06T01:00:01Z   → exit 0
        2026-12-06T01:00:02Z contlab-runc --root /lab/other create --bundle /lab/\(b) --pid-file /lab/\(b)/init.pid \(b)
        2026-12-06T01:00:02Z   → error: cannot create the cgroup
        2026-12-06T01:00:03Z contlab-runc --journal /lab/calls.log --root /lab/exec/runtime-runc/contlab kill \(a) 15
        2026-12-06T01:00:03Z   caller: 200 /usr/bin/containerd-shim-runc-v2 -namespace contlab -id \(a) -address /lab/exec/containerd/containerd.sock
        2026-12-06T01:00:03Z   → exit 0
        2026-12-06T01:00:04Z contlab-runc --journal /lab/calls.log --root /lab/exec/runtime-runc/contlab delete --force \(a)
        """

    func saved() throws -> RuntimeCallChain {
        let data = try Data(contentsOf: Self.lessons.appendingPathComponent("diagrams/stage4-callchain.json"))
        return try JSONDecoder().decode(RuntimeCallChain.self, from: data)
    }

    func testEveryCallIsReadWithItsGlobalsCallersInitCallsAndOutcome() {
        let calls = RuntimeCallChain.calls(journal: Self.journal)
        XCTAssertEqual(calls.map(\.verb), ["create", "start", "create", "kill", "delete"])
        XCTAssertEqual(
            calls[0].globalFlags,
            ["--root", "/lab/exec/runtime-runc/contlab", "--log", "/lab/\(Self.a)/log.json", "--log-format", "json"],
            "--journal is the lab's own flag, not the engine's")
        XCTAssertEqual(
            calls[1].globalFlags, ["--root", "/lab/exec/runtime-runc/contlab"], "--journal=FILE is dropped too")
        XCTAssertEqual(
            calls[0].arguments, ["--bundle", "/lab/\(Self.a)", "--pid-file", "/lab/\(Self.a)/init.pid", Self.a])
        XCTAssertEqual(calls[0].callers.map { $0.prefix(3) }, ["300", "200", "100"], "the caller, then its ancestors")
        XCTAssertEqual(calls[0].callerProgram, "sh")
        XCTAssertEqual(calls[0].initCallCount, 4, "only the init's system calls, not the runtime's words")
        XCTAssertEqual(
            calls[0].initCalls,
            [.init(name: "mount", count: 2), .init(name: "pivot_root", count: 1), .init(name: "sethostname", count: 1)],
            "by name, in the order first made")
        XCTAssertEqual(calls[0].outcome, "exit 0")
        XCTAssertEqual(calls[2].outcome, "error: cannot create the cgroup")
        XCTAssertNil(calls[4].outcome, "the journal ends before the last call does")
        XCTAssertEqual(calls[3].arguments, [Self.a, "15"])
    }

    func testTheChainIsOneContainersCallsTheLastCreatedByDefault() throws {
        let byDefault = try XCTUnwrap(RuntimeCallChain.parse(journal: Self.journal, engine: "docker"))
        XCTAssertEqual(byDefault.container, Self.b, "the last create's container")
        XCTAssertEqual(byDefault.calls.map(\.verb), ["create"])
        let first = try XCTUnwrap(RuntimeCallChain.parse(journal: Self.journal, engine: "docker", container: Self.a))
        XCTAssertEqual(
            first.calls.map(\.verb), ["create", "start", "kill", "delete"], "kill names the id before the signal")
        XCTAssertNil(RuntimeCallChain.parse(journal: "not a journal\n", engine: "docker"))
    }

    func testTheBoxesGoFromTheEngineToTheRuntimeNamingTheShimFromTheJournal() throws {
        let chain = try XCTUnwrap(RuntimeCallChain.parse(journal: Self.journal, engine: "docker", container: Self.a))
        let boxes = CallChainDiagram(chain: chain).boxes(language: .en)
        XCTAssertEqual(
            boxes.map(\.program), ["docker", "dockerd", "containerd", "containerd-shim-runc-v2", "contlab-runc"])
        XCTAssertEqual(boxes[3].note, "pid 200, -id a1a1a1a1a1a1…", "the shim, found past the engine's wrapper script")
        XCTAssertEqual(boxes[2].note, "pid 100, namespace contlab", "containerd's pid from an ancestor line")
        XCTAssertEqual(boxes[1].note, "Docker's daemon", "dockerd is in no caller line here")
        XCTAssertEqual(boxes[4].note, "runs once per step and exits")
        XCTAssertEqual(boxes[3].link, "runs the runtime once per step, through a wrapper script")
        XCTAssertTrue(boxes[1].link?.hasSuffix("…/containerd.sock") == true, boxes[1].link ?? "")
        XCTAssertNil(boxes.last?.link)
        var podman = chain
        podman.engine = "podman"
        XCTAssertEqual(
            CallChainDiagram(chain: podman).boxes(language: .zh).map(\.program), ["podman", "conmon", "contlab-runc"])
    }

    func testTheTextFitsEightyColumnsInALessonAndListsTheCallsInOrder() throws {
        for chain in [
            try saved(),
            try XCTUnwrap(RuntimeCallChain.parse(journal: Self.journal, engine: "docker", container: Self.a))
        ] {
            let diagram = CallChainDiagram(chain: chain)
            for language in Language.allCases {
                let text = diagram.text(style: Style(enabled: false), language: language)
                XCTAssertFalse(text.contains("\u{1B}["))
                let lines = text.split(separator: "\n").map(String.init)
                for line in lines {
                    XCTAssertLessThanOrEqual(
                        Terminal.displayWidth(line), 76, "a lesson shows it 4 columns in, within 80: \(line)")
                    XCTAssertFalse(line.hasSuffix(" "), "no trailing blanks: \(line)")
                }
                var at = lines.startIndex
                for (index, call) in chain.calls.enumerated() {
                    let found = try XCTUnwrap(
                        lines[at...].firstIndex {
                            $0.hasPrefix("  \(index + 1) \(call.verb)") || $0.hasPrefix("   \(index + 1) \(call.verb)")
                        },
                        "call \(index + 1), \(call.verb), after the one before it:\n\(text)")
                    at = found + 1
                }
                let runtime = try XCTUnwrap(lines.firstIndex { $0.contains("│ contlab-runc") })
                let docker = try XCTUnwrap(lines.firstIndex { $0.contains("│ \(chain.engine) ") })
                XCTAssertLessThan(docker, runtime, "the engine on top, the runtime at the bottom")
            }
            XCTAssertTrue(diagram.text(style: Style(enabled: true), language: .en).contains("\u{1B}["))
        }
    }

    func testTheSVGIsWellFormedWithABoxPerProgramAndARowPerCall() throws {
        let chain = try saved()
        let diagram = CallChainDiagram(chain: chain)
        for language in Language.allCases {
            let svg = diagram.svg(language: language)
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "\(language): \(parser.parserError.map { "\($0)" } ?? "")")
            func count(_ marker: String) -> Int { svg.components(separatedBy: marker).count - 1 }
            XCTAssertEqual(count("class=\"program\""), diagram.boxes(language: language).count)
            XCTAssertEqual(
                count("<line"), diagram.boxes(language: language).count - 1, "an arrow between each two programs")
            XCTAssertEqual(count("class=\"call\""), chain.calls.count)
            XCTAssertEqual(
                chain.calls.map(\.verb),
                svg.components(separatedBy: "data-verb=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) })
        }
    }

    func testTheSavedChainIsARealDockerRuns() throws {
        let chain = try saved()
        XCTAssertEqual(chain.engine, "docker")
        XCTAssertEqual(chain.calls.first?.verb, "create")
        XCTAssertTrue(chain.calls.contains { $0.verb == "start" } && chain.calls.contains { $0.verb == "delete" })
        XCTAssertTrue(
            chain.calls.allSatisfy { !$0.callers.isEmpty }, "recorded by a contlab-runc that names its callers")
        XCTAssertTrue(chain.calls.allSatisfy { $0.arguments.contains(chain.container) })
    }

    /// The lesson shows the drawing as text in the terminal; it must be the saved chain's.
    func testTheLessonsDrawingIsTheSavedChains() throws {
        let diagram = CallChainDiagram(chain: try saved())
        for language in Language.allCases {
            let lesson = try String(
                contentsOf: Self.lessons.appendingPathComponent("\(language.rawValue)/stage4-oci.md"), encoding: .utf8)
            guard let start = lesson.range(of: "```diagram:stage4-callchain.json\n"),
                let end = lesson.range(of: "\n```", range: start.upperBound..<lesson.endIndex)
            else {
                return XCTFail("\(language): stage 4's lesson has no diagram:stage4-callchain.json block")
            }
            XCTAssertEqual(
                String(lesson[start.upperBound..<end.lowerBound]) + "\n",
                diagram.text(style: Style(enabled: false), language: language),
                "\(language): redraw it with contlab engines chain --from lessons/diagrams/stage4-callchain.json")
        }
    }
}
