// `history show`, `history compare` and `history search`, as text and as JSON.
import ContlabCore
import Foundation
import TextKit
import XCTest
@testable import History

final class ShowCompareSearchTests: XCTestCase {
    func renderer(_ language: Language = .en, width: Int = 100, color: Bool = false) throws -> TerminalRenderer {
        TerminalRenderer(
            data: try Fixtures.data(), options: RenderOptions(language: language, width: width, color: color))
    }

    func assertFits(_ text: String, _ width: Int, line: UInt = #line) {
        for row in text.split(separator: "\n") {
            XCTAssertLessThanOrEqual(Terminal.displayWidth(String(row)), width, String(row), line: line)
        }
    }

    // MARK: show

    func testShowDockerTellsItsStory() throws {
        let data = try Fixtures.data()
        let docker = try data.resolveTechnology("docker")
        let text = try renderer().technology(docker)
        XCTAssertTrue(text.contains(docker.summary.en))
        XCTAssertTrue(text.contains("Borrowed from") && text.contains("lxc") && text.contains("libcontainer"))
        XCTAssertTrue(text.contains("Led to") && text.contains("containerd") && text.contains("kubernetes"))
        XCTAssertTrue(text.contains("history-docker"))
        XCTAssertTrue(text.contains("stage 5"))
        for event in data.events(of: "docker") {
            XCTAssertTrue(text.contains(event.date.description), event.id)
        }
        XCTAssertTrue(text.contains("Docker is shown at PyCon and open-sourced"))
    }

    func testShowInChineseAndFitsTheWidth() throws {
        let data = try Fixtures.data()
        for id in data.technologies.map(\.id) {
            let technology = try data.resolveTechnology(id)
            for language in Language.allCases {
                let text = try renderer(language, width: 60).technology(technology)
                assertFits(text, 60)
                if language == .zh {
                    XCTAssertTrue(text.contains("借鉴自") && text.contains(technology.summary.zh.prefix(4)), id)
                }
            }
        }
    }

    func testShowSaysWhenNoStageRebuildsIt() throws {
        let text = try renderer().technology(try Fixtures.data().resolveTechnology("kata"))
        XCTAssertTrue(text.contains("not rebuilt in this lab"))
    }

    func testShowResolvesNamesAndSuggestsForTypos() throws {
        let data = try Fixtures.data()
        XCTAssertEqual(try data.resolveTechnology("CRI-O").id, "cri-o")
        XCTAssertEqual(try data.resolveTechnology("Kata Containers").id, "kata")
        XCTAssertThrowsError(try data.resolveTechnology("cri0")) { error in
            guard case HistoryError.unknownTechnology(let given, let suggestions, let known) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(given, "cri0")
            XCTAssertTrue(suggestions.contains("cri") && suggestions.contains("cri-o"), "\(suggestions)")
            XCTAssertEqual(known.count, data.technologies.count)
            XCTAssertTrue(String(describing: error).contains("Did you mean"))
        }
        XCTAssertThrowsError(try data.resolveTechnology("vzserver")) { error in
            guard case HistoryError.unknownTechnology(_, let suggestions, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(suggestions.first, "vserver")
        }
    }

    func testShowJSON() throws {
        let data = try Fixtures.data()
        let json = try JSONRenderer(data: data, language: .en).technology(try data.resolveTechnology("runc"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["id"] as? String, "runc")
        XCTAssertEqual(object["stage"] as? Int, 4)
        XCTAssertEqual(object["borrowed_from"] as? [String], ["libcontainer", "oci"])
        XCTAssertEqual((object["isolates"] as? [String: String])?["processes"], "yes")
        let events = try XCTUnwrap(object["events"] as? [[String: Any]])
        XCTAssertEqual(events.count, data.events(of: "runc").count)
    }

    // MARK: compare

    func testCompareTableHasAColumnPerTechnologyAndARowPerQuestion() throws {
        let data = try Fixtures.data()
        let chosen = try ["chroot", "jail", "docker"].map(data.resolveTechnology)
        let text = try renderer(width: 100).comparison(chosen)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].contains("chroot") && lines[0].contains("FreeBSD jail") && lines[0].contains("Docker"))
        for feature in IsolationFeature.allCases {
            XCTAssertTrue(lines.contains { $0.hasPrefix(data.labels.feature(feature, .en)) }, feature.rawValue)
        }
        let filesystem = try XCTUnwrap(lines.first { $0.hasPrefix("Filesystem") })
        XCTAssertEqual(filesystem.split(separator: " ").map(String.init), ["Filesystem", "partial", "yes", "yes"])
        let kernel = try XCTUnwrap(lines.first { $0.hasPrefix("Special kernel") })
        XCTAssertTrue(kernel.hasSuffix("no"))
        let years = try XCTUnwrap(lines.first { $0.hasPrefix("Year") })
        XCTAssertEqual(years.split(separator: " ").dropFirst().map(String.init), ["1979", "2000", "2013"])
        XCTAssertTrue(text.contains("Apache-2.0") && text.contains("BSD-2-Clause"))
    }

    func testCompareSplitsIntoTablesThatFitANarrowTerminal() throws {
        let data = try Fixtures.data()
        let chosen = data.technologies
        for language in Language.allCases {
            for width in [40, 80, 160] {
                let text = try renderer(language, width: width, color: true).comparison(chosen)
                assertFits(text, width)
                for technology in chosen {
                    XCTAssertTrue(text.contains(technology.name) || text.contains(technology.id), technology.id)
                }
            }
        }
    }

    func testCompareJSON() throws {
        let data = try Fixtures.data()
        let json = try JSONRenderer(data: data, language: .zh).comparison(
            try ["vserver", "lxc"].map(data.resolveTechnology))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let technologies = try XCTUnwrap(object["technologies"] as? [[String: Any]])
        XCTAssertEqual(technologies.compactMap { $0["id"] as? String }, ["vserver", "lxc"])
        XCTAssertEqual(technologies[0]["needs_special_kernel"] as? Bool, true)
        XCTAssertEqual(technologies[1]["needs_special_kernel"] as? Bool, false)
        XCTAssertEqual(technologies[0]["years_from"] as? Int, 2001)
        XCTAssertEqual((technologies[1]["licence"] as? [String: Any])?["model"] as? String, "open-source")
        XCTAssertEqual(object["features"] as? [String], IsolationFeature.allCases.map(\.rawValue))
    }

    func testCompareNeedsTwoTechnologies() {
        let message = String(describing: HistoryError.compareNeedsTwo(given: ["docker"]))
        XCTAssertTrue(message.contains("at least two") && message.contains("contlab history compare"), message)
    }

    // MARK: search

    func testSearchFindsTitlesAndDescriptionsInEnglish() throws {
        let result = try Fixtures.data().search("user namespace")
        let ids = result.events.map(\.event.id)
        XCTAssertTrue(ids.contains("2013-user-namespaces"))
        XCTAssertTrue(ids.contains("2007-user-namespace-begins"))
        for hit in result.events {
            let text =
                (hit.event.title.en + " " + hit.event.description.en + " " + hit.event.title.zh
                + hit.event.description.zh).lowercased()
            XCTAssertTrue(text.contains("user") && text.contains("namespace"), hit.event.id)
        }
    }

    func testSearchFindsChineseWhateverTheDisplayLanguage() throws {
        let data = try Fixtures.data()
        let result = try data.search("容器")
        XCTAssertGreaterThan(result.events.count, 10)
        XCTAssertTrue(result.events.allSatisfy { $0.fields.contains { $0.hasSuffix(".zh") } })
        let zh = try renderer(.zh, width: 80).search(result)
        XCTAssertTrue(zh.hasPrefix("\(result.events.count) 个事件提到“容器”"), zh)
        XCTAssertTrue(zh.contains("容器"))
        assertFits(zh, 80)
        // In English the titles are English, and the snippet shows the Chinese match.
        let en = try renderer(.en, width: 80).search(result)
        XCTAssertTrue(en.contains(result.events[0].event.title.en))
        XCTAssertTrue(en.contains("容器"))
        assertFits(en, 80)
    }

    func testSearchHighlightsTheMatchWithColour() throws {
        let data = try Fixtures.data()
        let text = try renderer(width: 100, color: true).search(try data.search("dockershim"))
        XCTAssertTrue(text.contains("\u{1B}[1;4mdockershim\u{1B}[0m"))
    }

    func testSearchIgnoresCaseAndFindsTechnologies() throws {
        let result = try Fixtures.data().search("GVISOR")
        XCTAssertTrue(result.events.contains { $0.event.id == "2018-gvisor" })
        XCTAssertTrue(result.technologies.contains { $0.id == "gvisor" })
    }

    func testSearchWithoutMatchesOrWordsFails() throws {
        let data = try Fixtures.data()
        XCTAssertThrowsError(try data.search("zzzqqq")) { error in
            XCTAssertEqual(error as? HistoryError, .noMatches(query: "zzzqqq"))
        }
        XCTAssertThrowsError(try data.search("   ")) { error in
            XCTAssertEqual(error as? HistoryError, .emptySearch)
        }
    }

    func testSearchJSON() throws {
        let data = try Fixtures.data()
        let json = try JSONRenderer(data: data, language: .en).search(try data.search("seccomp"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["query"] as? String, "seccomp")
        let events = try XCTUnwrap(object["events"] as? [[String: Any]])
        XCTAssertFalse(events.isEmpty)
        XCTAssertNotNil(events[0]["matched_in"] as? [String])
        XCTAssertNotNil((events[0]["event"] as? [String: Any])?["title"] as? String)
        XCTAssertEqual((object["technologies"] as? [[String: Any]])?.first?["id"] as? String, "seccomp")
    }
}
