// The data in lessons/history obeys its rules, and breaking a rule fails with the file, the
// entry and the field.
import ContlabCore
import TextKit
import XCTest
@testable import History

final class DataValidationTests: XCTestCase {
    // MARK: the real data

    func testRealDataHasNoProblems() throws {
        let (_, issues) = Fixtures.checked
        XCTAssertEqual(issues, [], "\n" + issues.map(\.description).joined(separator: "\n"))
    }

    func testAtLeastFiftyEvents() throws {
        XCTAssertGreaterThanOrEqual(try Fixtures.data().events.count, 50)
    }

    func testEveryEventIsSourced() throws {
        for event in try Fixtures.data().events {
            XCTAssertFalse(event.sources.isEmpty, "\(event.id) has no source")
            for source in event.sources {
                XCTAssertFalse(source.trimmingCharacters(in: .whitespaces).isEmpty, "\(event.id) has an empty source")
            }
        }
    }

    func testDatesAreValidAndSorted() throws {
        let events = try Fixtures.data().events
        let currentYear = HistoryData.currentYear()
        for (index, event) in events.enumerated() {
            XCTAssertNotNil(HistoryDate(parsing: event.date.description), "\(event.id): \(event.date)")
            XCTAssertTrue((1979...currentYear).contains(event.date.year), "\(event.id) is outside 1979–today")
            XCTAssertTrue(event.id.hasPrefix(String(event.date.year) + "-"), "\(event.id) does not start with its year")
            if index > 0 {
                XCTAssertLessThanOrEqual(events[index - 1].date, event.date, "\(event.id) is out of order")
            }
        }
    }

    func testIdsResolve() throws {
        let data = try Fixtures.data()
        let lessons = Set(data.labels.lessons)
        for event in data.events {
            for id in event.technologies { XCTAssertNotNil(data.technology(id: id), "\(event.id) → \(id)") }
            for lesson in event.lessons { XCTAssertTrue(lessons.contains(lesson), "\(event.id) → \(lesson)") }
            for stage in event.stages { XCTAssertTrue((1...6).contains(stage), "\(event.id) → stage \(stage)") }
            XCTAssertTrue(data.eras.contains { $0.contains(event.date.year) }, "\(event.id) is in no era")
        }
        for technology in data.technologies {
            for id in technology.borrowedFrom + technology.ledTo {
                XCTAssertNotNil(data.technology(id: id), "\(technology.id) → \(id)")
            }
            XCTAssertTrue(lessons.contains(technology.lesson), "\(technology.id) → \(technology.lesson)")
            if let stage = technology.stage { XCTAssertTrue((1...6).contains(stage)) }
            XCTAssertFalse(data.events(of: technology.id).isEmpty, "\(technology.id) has no events")
        }
    }

    func testBothLanguagesArePresent() throws {
        let data = try Fixtures.data()
        var texts: [(String, Localized)] = []
        for event in data.events {
            texts.append(("\(event.id) title", event.title))
            texts.append(("\(event.id) description", event.description))
        }
        for technology in data.technologies { texts.append(("\(technology.id) summary", technology.summary)) }
        for era in data.eras { texts.append(("era \(era.id)", era.title)) }
        for (name, text) in texts {
            XCTAssertFalse(text.en.isEmpty, "\(name): no English")
            XCTAssertFalse(text.zh.isEmpty, "\(name): no Chinese")
            XCTAssertTrue(TextForm.containsCJK(text.zh), "\(name): the Chinese text has no Chinese characters")
            XCTAssertFalse(TextForm.containsCJK(text.en), "\(name): the English text has Chinese characters")
        }
        for key in UIText.allCases {
            XCTAssertNotNil(data.labels.ui[key], "labels.yaml ui lacks \(key.rawValue)")
        }
    }

    func testNoDuplicateEvents() throws {
        let events = try Fixtures.data().events
        XCTAssertEqual(Set(events.map(\.id)).count, events.count, "duplicate event ids")
        XCTAssertEqual(Set(events.map { $0.title.en.lowercased() }).count, events.count, "duplicate English titles")
        XCTAssertEqual(Set(events.map(\.title.zh)).count, events.count, "duplicate Chinese titles")
    }

    func testKernelFeaturesNameTheirKernel() throws {
        for event in try Fixtures.data().events where event.kind == .kernelFeature {
            XCTAssertNotNil(event.kernel, "\(event.id) is a kernel feature without a kernel version")
        }
    }

    func testTheIssuesTechnologiesAllHaveEntries() throws {
        let data = try Fixtures.data()
        let wanted = [
            "chroot", "jail", "vserver", "zones", "openvz", "cgroups", "namespaces", "lxc", "warden",
            "lmctfy", "docker", "libcontainer", "rkt", "oci", "runc", "containerd", "cri", "cri-o",
            "podman", "gvisor", "kata", "kubernetes"
        ]
        for id in wanted {
            XCTAssertNotNil(data.technology(id: id), "technologies.yaml lacks \(id)")
        }
    }

    func testChineseTextHasNoFoldedSpaces() throws {
        // A line break inside Chinese text must not leave a space between two characters.
        for event in try Fixtures.data().events {
            let text = event.description.zh
            XCTAssertNil(
                text.range(of: #"[\p{Han}，。、：；）] [\p{Han}（]"#, options: .regularExpression),
                "\(event.id): \(text)")
        }
    }

    // MARK: broken fixtures

    /// The issues found after `edit` changes one of the real files.
    private func issues(
        events: (String) -> String = { $0 }, technologies: (String) -> String = { $0 },
        labels: (String) -> String = { $0 }
    ) throws -> [DataIssue] {
        let (_, issues) = HistoryData.check(
            events: events(try Fixtures.text("events.yaml")),
            technologies: technologies(try Fixtures.text("technologies.yaml")),
            labels: labels(try Fixtures.text("labels.yaml")))
        return issues
    }

    private func replacing(_ old: String, with new: String) -> (String) -> String {
        { text in
            XCTAssertTrue(text.contains(old), "fixture text not found: \(old)")
            return text.replacingOccurrences(of: old, with: new)
        }
    }

    private func assertIssue(
        _ issues: [DataIssue], file: String, entry: String, field: String,
        mentioning words: [String] = [], line: UInt = #line
    ) {
        let match = issues.first { $0.file == file && $0.entry == entry && $0.field == field }
        XCTAssertNotNil(
            match,
            "no issue for \(file) / \(entry) / \(field) in:\n" + issues.map(\.description).joined(separator: "\n"),
            line: line)
        for word in words {
            XCTAssertTrue(match?.message.contains(word) ?? false, "\(match?.message ?? "") lacks \(word)", line: line)
        }
        if let match {
            XCTAssertTrue(match.description.contains(file) && match.description.contains(entry), line: line)
            XCTAssertNotNil(match.line, "an issue in a parsed file should carry a line number", line: line)
        }
    }

    func testInvalidDateNamesFileEntryAndField() throws {
        let found = try issues(events: replacing(#"date: "2008-08""#, with: #"date: "2008-13""#))
        assertIssue(
            found, file: "lessons/history/events.yaml", entry: "event 2008-lxc", field: "date", mentioning: ["2008-13"])
    }

    func testEventsOutOfOrderAreReported() throws {
        let found = try issues(events: replacing(#"date: "2011-07""#, with: #"date: "2011-12""#))
        assertIssue(
            found, file: "lessons/history/events.yaml", entry: "event 2011-warden", field: "date", mentioning: ["order"]
        )
    }

    func testEventIDMustMatchItsYear() throws {
        let found = try issues(events: replacing("id: 2008-lxc", with: "id: 2009-lxc"))
        assertIssue(
            found, file: "lessons/history/events.yaml", entry: "event 2009-lxc", field: "id", mentioning: ["2008"])
    }

    func testUnknownTechnologyIsReportedWithASuggestion() throws {
        let found = try issues(
            events: replacing(
                "tech: [lxc]\n    kind: runtime\n    title:\n      en: \"LXC 0.1.0",
                with: "tech: [lcx]\n    kind: runtime\n    title:\n      en: \"LXC 0.1.0"))
        assertIssue(
            found, file: "lessons/history/events.yaml", entry: "event 2008-lxc", field: "tech",
            mentioning: ["lcx", "lxc"])
    }

    func testMissingChineseIsReported() throws {
        let found = try issues(events: replacing(#"      zh: "LXC 0.1.0 用主线内核的零件拼出容器""#, with: ""))
        assertIssue(
            found, file: "lessons/history/events.yaml", entry: "event 2008-lxc", field: "title.zh",
            mentioning: ["missing"])
    }

    func testEnglishInTheChineseFieldIsReported() throws {
        let found = try issues(
            events: replacing(
                #"zh: "LXC 0.1.0 用主线内核的零件拼出容器""#,
                with: #"zh: "LXC 0.1.0 builds containers""#))
        assertIssue(found, file: "lessons/history/events.yaml", entry: "event 2008-lxc", field: "title.zh")
    }

    func testUnsourcedEventIsReported() throws {
        let found = try issues(
            events: replacing(
                """
                      - "https://github.com/lxc/lxc/tree/lxc_0_1_0"
                      - "lxc/lxc git history: Initial revision by Daniel Lezcano, 6 August 2008"
                """, with: ""))
        assertIssue(found, file: "lessons/history/events.yaml", entry: "event 2008-lxc", field: "sources")
    }

    func testMisspelledFieldIsReported() throws {
        let found = try issues(
            events: replacing(
                "    kind: runtime\n    title:\n      en: \"LXC 0.1.0",
                with: "    kind: runtime\n    titel: x\n    title:\n      en: \"LXC 0.1.0"))
        assertIssue(
            found, file: "lessons/history/events.yaml", entry: "event 2008-lxc", field: "titel",
            mentioning: ["unknown field"])
    }

    func testKernelFeatureWithoutKernelIsReported() throws {
        let found = try issues(events: replacing("    kernel: \"3.5\"\n", with: ""))
        assertIssue(found, file: "lessons/history/events.yaml", entry: "event 2012-seccomp-filter", field: "kernel")
    }

    func testDuplicateEventIsReported() throws {
        let found = try issues(events: { text in
            let start = text.range(of: "  - id: 2008-lxc\n")!
            let end = text.range(of: "  - id: 2009-network-namespace\n")!
            let block = String(text[start.lowerBound..<end.lowerBound])
            return text.replacingCharacters(in: start.lowerBound..<end.lowerBound, with: block + block)
        })
        assertIssue(
            found, file: "lessons/history/events.yaml", entry: "event 2008-lxc", field: "id", mentioning: ["duplicates"]
        )
    }

    func testOneSidedLinkIsReported() throws {
        let found = try issues(technologies: replacing("    led-to: [warden, docker]", with: "    led-to: [docker]"))
        assertIssue(
            found, file: "lessons/history/technologies.yaml", entry: "technology warden", field: "borrowed-from",
            mentioning: ["lxc"])
    }

    func testUnknownIsolationLevelIsReported() throws {
        let found = try issues(
            technologies: replacing(
                #"isolates: {filesystem: partial, processes: "no", network: "no", users: "no", resources: "no"}"#,
                with: #"isolates: {filesystem: sorta, processes: "no", network: "no", users: "no", resources: "no"}"#))
        assertIssue(
            found, file: "lessons/history/technologies.yaml", entry: "technology chroot",
            field: "isolates.filesystem", mentioning: ["sorta"])
    }

    func testMissingInterfaceTextIsReported() throws {
        let found = try issues(labels: replacing(#"  led-to:            {en: "Led to", zh: "影响了"}"#, with: ""))
        XCTAssertTrue(
            found.contains { $0.file == "lessons/history/labels.yaml" && $0.field == "led-to" },
            found.map(\.description).joined(separator: "\n"))
    }

    func testYAMLSyntaxErrorNamesTheLine() throws {
        let found = try issues(events: replacing("  - id: 2008-lxc\n    date:", with: "  - id: 2008-lxc\n   date:"))
        let issue = try XCTUnwrap(found.first { $0.file == "lessons/history/events.yaml" })
        XCTAssertNotNil(issue.line)
        XCTAssertTrue(issue.message.contains("YAML"), issue.description)
    }

    func testLoadThrowsEveryProblemForTheCommand() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("contlab-history-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["technologies.yaml", "labels.yaml"] {
            try Fixtures.text(name).write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try Fixtures.text("events.yaml").replacingOccurrences(of: #"date: "2008-08""#, with: #"date: "2008-13""#)
            .write(to: directory.appendingPathComponent("events.yaml"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HistoryData.load(from: directory)) { error in
            guard case HistoryError.invalidData(let issues) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(issues.count, 1)
            XCTAssertTrue(String(describing: error).contains("event 2008-lxc, field date"))
        }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("labels.yaml"))
        XCTAssertThrowsError(try HistoryData.load(from: directory)) { error in
            XCTAssertTrue(String(describing: error).contains("labels.yaml"), "\(error)")
        }
    }
}
