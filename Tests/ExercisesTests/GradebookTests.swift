import ContlabCore
import Exercises
import XCTest

/// The gradebook from reports, a roster and the students' files: pure, no grading.
final class GradebookTests: XCTestCase {
    func report(_ points: [String: Int]) -> GradeReport {
        GradeReport(
            exercises: points.sorted { $0.key < $1.key }.map {
                ExerciseResult(
                    id: $0.key, title: $0.key, group: "stage", points: $0.value, maxPoints: 4, checks: [], seconds: 1)
            })
    }

    func book() throws -> Gradebook {
        let roster = try Roster.parse("id,name\nana,\"Lima, Ana\"\nbo,Bo \"the\" Chen\ndee,Dee Moss\n")
        let rows = [
            Gradebook.row(student: "bo", name: nil, report: report(["1.1": 2, "2.1": 4]), hintsUsed: 3, gradedAt: "t"),
            Gradebook.row(student: "ana", name: nil, report: report(["1.1": 4, "2.1": 4]), hintsUsed: 0, gradedAt: "t")
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
        let respaced = Array(
            "#!/bin/sh\n# my own words\nexec unshare  --pid --fork --mount-proc   \"$@\"   # done\n".utf8)
        let other = Array("#!/bin/sh\nexec unshare -p -f --mount-proc \"$@\"\n".utf8)
        let files: [String: [String: [String: [UInt8]]]] = [
            "ana": ["2.1": ["container.sh": mine]],
            "bo": ["2.1": ["container.sh": mine]],
            "cy": ["2.1": ["container.sh": respaced]],
            "dee": ["2.1": ["container.sh": other]],
            "eve": ["2.1": starter], "fay": ["2.1": starter]
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

/// An assignment: which exercises count, their weights, the due date and what a hint costs.
final class AssignmentTests: XCTestCase {
    let known = ["1.1", "2.1", "3.1", "H.1"]

    func testWeightsHintsAndLateness() throws {
        let assignment = try Assignment.parse(
            """
            title: Week 3
            exercises: ["2.1", "3.1"]
            weights: {"3.1": 2}
            due: 2026-12-20T23:59:00Z
            hints: cost
            hint-cost: 0.5
            """, known: known)
        let score = assignment.score(
            points: ["2.1": 3, "3.1": 2, "1.1": 4], maxPoints: ["2.1": 3, "3.1": 4, "1.1": 4], hintsUsed: 2)
        XCTAssertEqual(score.score, 3 + 2 * 2 - 1, "1.1 does not count; 3.1 counts twice; two hints cost 1")
        XCTAssertEqual(score.max, 3 + 4 * 2)
        XCTAssertEqual(assignment.score(points: [:], maxPoints: ["2.1": 3], hintsUsed: 9).score, 0, "never below zero")
        let formatter = ISO8601DateFormatter()
        XCTAssertFalse(assignment.isLate(formatter.date(from: "2026-12-20T23:00:00Z")))
        XCTAssertTrue(assignment.isLate(formatter.date(from: "2026-12-21T00:00:01Z")))
        XCTAssertFalse(assignment.isLate(nil), "no time known: not called late")

        let row = Gradebook.Row(
            student: "ana", points: ["2.1": 3, "3.1": 4, "1.1": 4], total: 11, hintsUsed: 0, gradedAt: "t", seconds: 1,
            error: nil, submitted: "2026-12-21T10:00:00Z")
        let book = Gradebook(
            exercises: known, maxPoints: ["1.1": 4, "2.1": 3, "3.1": 4, "H.1": 4], rows: [row], assignment: assignment)
        let lines = book.csv().components(separatedBy: "\r\n")
        XCTAssertEqual(
            lines[0],
            "student,name,2.1,3.1,total,max,weighted,weighted max,submitted,late,hints used,graded at,seconds,error")
        XCTAssertEqual(lines[1], "ana,,3,4,7,7,11,11,2026-12-21T10:00:00Z,late,0,t,1.0,")
        XCTAssertTrue(book.html(language: .en).contains("<td>11/11</td><td>late</td>"))
    }

    func testMistakesAreNamed() {
        func refusal(_ text: String) -> String {
            do { _ = try Assignment.parse(text, known: known); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal("title: x\nexercises: [\"9.9\"]").contains("no exercise \"9.9\""))
        XCTAssertTrue(refusal("title: x\nexercises: []").contains("at least one"))
        XCTAssertTrue(
            refusal("title: x\nexercises: [\"2.1\"]\nweights: {\"2.1\": 0}").contains("must weigh more than 0"))
        XCTAssertTrue(refusal("title: x\nexercises: [\"2.1\"]\ndue: next friday").contains("is not a time"))
        XCTAssertTrue(refusal("title: x\nexercises: [\"2.1\"]\nhints: cost").contains("needs hint-cost"))
        XCTAssertEqual(refusal("title: x\nexercises: [\"2.1\"]\nhints: counted"), "")
    }
}
