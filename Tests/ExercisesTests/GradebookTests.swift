import ContlabCore
import Exercises
import XCTest

/// The gradebook from reports, a roster and the students' files: pure, no grading.
final class GradebookTests: XCTestCase {
    func report(_ points: [String: Int]) -> GradeReport {
        GradeReport(exercises: points.sorted { $0.key < $1.key }.map {
            ExerciseResult(id: $0.key, title: $0.key, group: "stage", points: $0.value, maxPoints: 4, checks: [], seconds: 1)
        })
    }

    func book() throws -> Gradebook {
        let roster = try Roster.parse("id,name\nana,\"Lima, Ana\"\nbo,Bo \"the\" Chen\ndee,Dee Moss\n")
        let rows = [
            Gradebook.row(student: "bo", name: nil, report: report(["1.1": 2, "2.1": 4]), hintsUsed: 3, gradedAt: "t"),
            Gradebook.row(student: "ana", name: nil, report: report(["1.1": 4, "2.1": 4]), hintsUsed: 0, gradedAt: "t"),
        ]
        return Gradebook(exercises: ["1.1", "2.1"], maxPoints: ["1.1": 4, "2.1": 4], rows: rows, roster: roster)
    }

    func testCSVHasARowPerStudentAndQuotesWhatNeedsIt() throws {
        let lines = try book().csv().components(separatedBy: "\r\n")
        XCTAssertEqual(lines[0], "student,name,1.1,2.1,total,max,hints used,graded at,seconds,error")
        XCTAssertEqual(lines[1], "ana,\"Lima, Ana\",4,4,8,8,0,t,2.0,")
        XCTAssertEqual(lines[2], "bo,\"Bo \"\"the\"\" Chen\",2,4,6,8,3,t,2.0,")
        XCTAssertEqual(lines[3], "dee,Dee Moss,,,0,8,0,,0.0,no submission")
        XCTAssertEqual(try book().missing, ["dee"])
    }

    func testPassRatesAndThePageLeaveOutWhoHandedInNothing() throws {
        let book = try book()
        XCTAssertEqual(book.passRate("1.1"), 0.5)
        XCTAssertEqual(book.passRate("2.1"), 1)
        let page = book.html(language: .en)
        XCTAssertTrue(page.contains("<svg") && page.contains("50%") && page.contains("100%"), page)
        XCTAssertTrue(page.contains("<td class=\"name\">Lima, Ana</td>"), page)
        XCTAssertFalse(page.contains("<script"), "no script needed")
        XCTAssertTrue(book.html(language: .zh).contains("成绩册"))
    }

    func testTheSameWorkIsFoundAndTheStarterIsNoOnesWork() {
        let starter = ["container.sh": Array("#!/bin/sh\nexec \"$@\"\n".utf8)]
        let mine = Array("#!/bin/sh\nexec unshare --pid --fork --mount-proc \"$@\"\n".utf8)
        let respaced = Array("#!/bin/sh\n# my own words\nexec unshare  --pid --fork --mount-proc   \"$@\"   # done\n".utf8)
        let other = Array("#!/bin/sh\nexec unshare -p -f --mount-proc \"$@\"\n".utf8)
        let files: [String: [String: [String: [UInt8]]]] = [
            "ana": ["2.1": ["container.sh": mine]],
            "bo": ["2.1": ["container.sh": mine]],
            "cy": ["2.1": ["container.sh": respaced]],
            "dee": ["2.1": ["container.sh": other]],
            "eve": ["2.1": starter], "fay": ["2.1": starter],
        ]
        let found = Gradebook.sameWork(files: files, starters: ["2.1": starter])
        XCTAssertEqual(found.map { $0.students }, [["ana", "bo"], ["ana", "cy"], ["bo", "cy"]], "\(found)")
        XCTAssertEqual(found.first?.kind, "identical")
        XCTAssertEqual(found.last?.kind, "the same apart from spacing and comments")
    }

    func testARosterMustListStudentsOnce() {
        XCTAssertThrowsError(try Roster.parse("id,name\n")) { XCTAssertTrue("\($0)".contains("no students")) }
        XCTAssertThrowsError(try Roster.parse("a,A\na,B\n")) { XCTAssertTrue("\($0)".contains("a is listed twice")) }
        XCTAssertEqual(try Roster.parse("a\nb,Bee\n").students.map(\.name), ["", "Bee"])
    }
}
