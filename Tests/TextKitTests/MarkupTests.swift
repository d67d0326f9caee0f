import TextKit
import XCTest

final class MarkupTests: XCTestCase {
    func testEscapesTheFiveMarkupCharacters() {
        XCTAssertEqual(
            Markup.escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        XCTAssertEqual(Markup.escape("容器\n"), "容器\n", "HTML keeps line ends as they are")
    }

    // A JUnit report holds what a student's program printed: line ends survive an attribute
    // value, and controls XML 1.0 cannot hold become U+FFFD instead of a report no parser reads.
    func testXMLKeepsLineEndsAndReplacesWhatXMLCannotHold() {
        XCTAssertEqual(Markup.escapeXML("a\nb\tc\r"), "a&#10;b&#9;c&#13;")
        XCTAssertEqual(Markup.escapeXML("bell\u{07} nul\u{00} \u{FFFE}"), "bell\u{FFFD} nul\u{FFFD} \u{FFFD}")
        XCTAssertEqual(Markup.escapeXML("1 < 2 & \"ok\" '容器'"), "1 &lt; 2 &amp; &quot;ok&quot; &#39;容器&#39;")
    }
}
