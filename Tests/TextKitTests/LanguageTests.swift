import TextKit
import XCTest

final class LanguageTests: XCTestCase {
    func testLanguageComesFromTheLocale() {
        XCTAssertEqual(Language.preferred(environment: [:]), .en)
        XCTAssertEqual(Language.preferred(environment: ["LANG": "zh_CN.UTF-8"]), .zh)
        XCTAssertEqual(Language.preferred(environment: ["LANG": "zh_TW.UTF-8"]), .zh)
        XCTAssertEqual(Language.preferred(environment: ["LANG": "en_GB.UTF-8"]), .en)
        XCTAssertEqual(Language.preferred(environment: ["LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"]), .zh)
        XCTAssertEqual(Language.preferred(environment: ["LC_ALL": "C", "LANG": "zh_CN.UTF-8"]), .en, "LC_ALL wins")
        XCTAssertEqual(
            Language.preferred(environment: ["LC_ALL": "", "LANG": "zh_CN.UTF-8"]), .zh, "an empty LC_ALL is unset")
    }

    func testLocalizedPicksTheLanguage() {
        let text = Localized(en: "container", zh: "容器")
        XCTAssertEqual(text[.zh], "容器")
        XCTAssertEqual(text("en"), "container")
        XCTAssertEqual(text("fr"), "container", "anything but zh reads as English")
    }
}

final class SuggestionsTests: XCTestCase {
    func testSuggestionsUseEditDistance() {
        let ids = ["chroot", "jail", "docker", "cri", "cri-o", "podman", "containerd", "runc"]
        XCTAssertEqual(Suggestions.editDistance("dokcer", "docker"), 2)
        XCTAssertEqual(Suggestions.nearest(to: "dokcer", among: ids).first, "docker")
        XCTAssertEqual(Suggestions.nearest(to: "podmn", among: ids), ["podman"])
        XCTAssertEqual(Suggestions.nearest(to: "Containerd", among: ids), ["containerd"])
        XCTAssertEqual(Suggestions.nearest(to: "xyzzy", among: ids), [])
    }

}
