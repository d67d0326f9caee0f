import ContlabCore
import Foundation
import TestSupport
import XCTest

/// `contlab grade`: a folder of three students' workspaces graded at once into a gradebook,
/// nothing written into the submissions, the copied work named, the missing student listed.
extension ExerciseGradingTests {
    func testAClassIsGradedIntoAGradebook() throws {
        let classFolder = workspace + "-class"
        let out = workspace + "-grades"
        defer {
            try? FileManager.default.removeItem(atPath: classFolder)
            try? FileManager.default.removeItem(atPath: out)
        }
        try FileManager.default.createDirectory(atPath: classFolder, withIntermediateDirectories: true)
        try use("2.1", "reference")
        try use("H.1", "reference")
        for student in ["ana", "bo", "cy"] {
            try FileManager.default.copyItem(atPath: workspace, toPath: classFolder + "/" + student)
        }
        // cy's 2.1 is the starter again: cy did not do it, and shares nothing with the others.
        let starter = Harness.packageRoot.appendingPathComponent("exercises/2.1-pid-namespace/starter/container.sh")
            .path
        let cyScript = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: classFolder + "/cy").first { $0.hasPrefix("2.1-") })
        try FileManager.default.removeItem(atPath: classFolder + "/cy/" + cyScript + "/container.sh")
        try FileManager.default.copyItem(atPath: starter, toPath: classFolder + "/cy/" + cyScript + "/container.sh")
        let roster = classFolder + ".csv"
        try "id,name\nana,Ana Lima\nbo,Bo Chen\ncy,Cy Park\ndee,Dee Moss\n".write(
            toFile: roster, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: roster) }

        let graded = try Harness.run(
            ["grade", classFolder, "--roster", roster, "--out", out, "--jobs", "3"], timeout: 600)
        XCTAssertEqual(graded.status, 0, graded.stderr)
        XCTAssertTrue(graded.stdout.contains("3 graded, 1 with no submission"), graded.stdout)
        for student in ["ana", "bo", "cy"] {
            XCTAssertFalse(
                FileManager.default.fileExists(atPath: classFolder + "/\(student)/.contlab/progress.json"),
                "grading wrote into \(student)'s submission")
        }
        let csv = try String(contentsOfFile: out + "/gradebook.csv", encoding: .utf8).components(separatedBy: "\r\n")
        let ana = try XCTUnwrap(csv.first { $0.hasPrefix("ana,Ana Lima,") })
        let cy = try XCTUnwrap(csv.first { $0.hasPrefix("cy,Cy Park,") })
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false)
        let column = try XCTUnwrap(header.firstIndex(of: "2.1"))
        XCTAssertEqual(ana.split(separator: ",", omittingEmptySubsequences: false)[column], "3")
        XCTAssertEqual(cy.split(separator: ",", omittingEmptySubsequences: false)[column], "0")
        XCTAssertTrue(csv.contains { $0.hasPrefix("dee,Dee Moss,") && $0.hasSuffix("no submission") }, "\(csv)")
        let book = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/gradebook.json")))
                as? [String: Any])
        let pairs = (book["sameWork"] as? [[String: Any]] ?? []).map {
            "\($0["exercise"] ?? "") \(($0["students"] as? [String] ?? []).joined(separator: "+"))"
        }
        XCTAssertTrue(pairs.contains("2.1 ana+bo"), "\(pairs)")
        XCTAssertFalse(
            pairs.contains { $0.hasPrefix("2.1") && $0.contains("cy") }, "the starter is no one's work: \(pairs)")
        let page = try String(contentsOfFile: out + "/gradebook.html", encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("Ana Lima"))
        // A browser draws it: a PNG with something in it, and the table and charts in the DOM.
        let chromium = try XCTUnwrap(Browser.find(), "chromium is not installed: the Makefile's setup installs it")
        let url = URL(fileURLWithPath: out + "/gradebook.html").absoluteString
        let shot = try Browser.run(chromium, ["--screenshot=\(out)/gradebook.png", "--window-size=1280,900", url])
        XCTAssertEqual(shot.status, 0, shot.output)
        let png = try Data(contentsOf: URL(fileURLWithPath: out + "/gradebook.png"))
        XCTAssertGreaterThan(png.count, 5000)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let dom = try Browser.run(chromium, ["--dump-dom", url])
        XCTAssertTrue(
            dom.output.contains("<title>contlab gradebook</title>") && dom.output.contains("<svg")
                && dom.output.contains("Dee Moss"), String(dom.output.prefix(400)))

        // One at a time gives the same book, but for when and how long.
        let serial = try Harness.run(
            ["grade", classFolder, "--roster", roster, "--out", out + "-1", "--jobs", "1"], timeout: 600)
        defer { try? FileManager.default.removeItem(atPath: out + "-1") }
        XCTAssertEqual(serial.status, 0, serial.stderr)
        func withoutTimes(_ path: String) throws -> String {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
                .filter { !$0.contains("\"gradedAt\"") && !$0.contains("\"seconds\"") }.joined(separator: "\n")
        }
        XCTAssertEqual(try withoutTimes(out + "-1/gradebook.json"), try withoutTimes(out + "/gradebook.json"))

        // Under an assignment: only its exercises, weighted, and work handed in after the due
        // date marked late (the copies were made just now, long after it).
        let assignment = classFolder + "-assignment.yaml"
        try "title: Week 2\nexercises: [\"2.1\", \"H.1\"]\nweights: {\"2.1\": 2}\ndue: 2020-01-01T00:00:00Z\n".write(
            toFile: assignment, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: assignment) }
        let weighted = try Harness.run(
            ["grade", classFolder, "--roster", roster, "--assignment", assignment, "--out", out + "-a"], timeout: 600)
        defer { try? FileManager.default.removeItem(atPath: out + "-a") }
        XCTAssertEqual(weighted.status, 0, weighted.stderr)
        let rows = try String(contentsOfFile: out + "-a/gradebook.csv", encoding: .utf8).components(separatedBy: "\r\n")
        XCTAssertEqual(
            rows[0],
            "student,name,2.1,H.1,total,max,weighted,weighted max,submitted,late,hints used,graded at,seconds,error")
        XCTAssertTrue(rows[1].hasPrefix("ana,Ana Lima,3,4,7,7,10,10,") && rows[1].contains(",late,"), rows[1])

        // The same reports graded elsewhere, merged.
        let reports = workspace + "-reports"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        // ana asks for a hint first: a report made elsewhere carries the count into the book.
        let asked = try Harness.execute([
            "/bin/sh", "-c", "cd \"$0\" && exec \"$1\" hint 2.1 --lang en", classFolder + "/ana", Harness.binary
        ])
        XCTAssertEqual(asked.status, 0, asked.stderr)
        for student in ["ana", "bo"] {
            let one = try Harness.run(
                [
                    "verify", "--workspace", classFolder + "/" + student, "--format", "json", "--no-save",
                    "--output", reports + "/\(student).json"
                ], timeout: 600)
            XCTAssertEqual(one.status, 1, one.stderr)
        }
        let merged = try Harness.run([
            "grade", "--merge", reports + "/ana.json", reports + "/bo.json", "--roster", roster, "--out", out + "-m"
        ])
        defer { try? FileManager.default.removeItem(atPath: out + "-m") }
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertTrue(merged.stdout.contains("2 graded, 2 with no submission"), merged.stdout)
        // The points of each exercise, the total and the maximum: as grading them here gave.
        func points(_ book: String, _ student: String) throws -> [Substring] {
            let row = try XCTUnwrap(
                try String(contentsOfFile: book + "/gradebook.csv", encoding: .utf8).components(separatedBy: "\r\n")
                    .first { $0.hasPrefix(student + ",") })
            return Array(
                row.split(separator: ",", omittingEmptySubsequences: false).prefix(header.firstIndex(of: "total")! + 1))
        }
        for student in ["ana", "bo"] {
            XCTAssertEqual(
                try points(out + "-m", student), try points(out + "-1", student), "\(student): merged as graded")
        }
        let mergedRows = try String(contentsOfFile: out + "-m/gradebook.csv", encoding: .utf8).components(
            separatedBy: "\r\n")
        let mergedHeader = mergedRows[0].split(separator: ",", omittingEmptySubsequences: false)
        let hintsColumn = try XCTUnwrap(mergedHeader.firstIndex(of: "hints used"))
        for (student, hints) in [("ana", "1"), ("bo", "0")] {
            let row = try XCTUnwrap(mergedRows.first { $0.hasPrefix(student + ",") }).split(
                separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(String(row[hintsColumn]), hints, "\(student)'s hints survive the merge")
        }
    }

    /// A build-track class: the gradebook's columns are the track's levels, each workspace is
    /// graded in its own language, and two students' same runtime is named while the untouched
    /// skeletons of either language are no one's work.
    func testABuildTrackClassIsGradedWithItsLevels() throws {
        let classFolder = workspace + "-build"
        let out = workspace + "-build-grades"
        defer {
            try? FileManager.default.removeItem(atPath: classFolder)
            try? FileManager.default.removeItem(atPath: out)
        }
        let reference = Harness.packageRoot.appendingPathComponent("Tests/ExerciseSolutions/B.1/reference-c/runtime.c")
        for (student, language) in [("ana", "c"), ("bo", "python"), ("cy", "c")] {
            let made = try Harness.run(
                ["exercises", "init", classFolder + "/" + student, "--track", "build", "--lang", language])
            XCTAssertEqual(made.status, 0, made.stderr)
            if language == "c" {
                let target = classFolder + "/\(student)/B.1-chroot/runtime.c"
                try FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: reference.path, toPath: target)
            }
        }
        let graded = try Harness.run(["grade", classFolder, "--out", out, "--jobs", "3"], timeout: 600)
        XCTAssertEqual(graded.status, 0, graded.stderr)
        let csv = try String(contentsOfFile: out + "/gradebook.csv", encoding: .utf8).components(separatedBy: "\r\n")
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(
            Array(header[2..<7]), ["B.1", "B.2", "B.3", "B.4", "B.5"], "the levels are the columns: \(header)")
        XCTAssertFalse(header.contains("2.1"), "no usual exercise in a build-track class: \(header)")
        func points(_ student: String, _ level: String) throws -> String {
            let row = try XCTUnwrap(csv.first { $0.hasPrefix(student + ",") }).split(
                separator: ",", omittingEmptySubsequences: false)
            return String(row[try XCTUnwrap(header.firstIndex(of: level))])
        }
        XCTAssertEqual(try points("ana", "B.1"), "4")
        XCTAssertEqual(try points("bo", "B.1"), "0", "the untouched Python skeleton")
        XCTAssertEqual(try points("ana", "B.2"), "0")
        let book = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/gradebook.json")))
                as? [String: Any])
        let pairs = (book["sameWork"] as? [[String: Any]] ?? []).map {
            "\($0["exercise"] ?? "") \(($0["students"] as? [String] ?? []).joined(separator: "+"))"
        }
        XCTAssertEqual(pairs, ["B.1 ana+cy"], "the shared runtime, and no skeleton")
    }
}
