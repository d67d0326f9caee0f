import ContlabCore
import Foundation

/// A class's grades in one place: a row per student from their report, the students of the
/// roster who handed in nothing, and the pairs whose graded files are the same. Pure: `contlab
/// grade` gathers the reports and the files, this turns them into CSV, JSON and HTML.
public struct Gradebook: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        /// The roster's id, or the submission folder's name when there is no roster.
        public var student: String
        public var name: String?
        /// Points per exercise id; an exercise the report does not have is missing.
        public var points: [String: Int]
        public var total: Int
        public var hintsUsed: Int
        public var gradedAt: String
        public var seconds: Double
        /// Why the submission could not be graded, when it could not.
        public var error: String?
        /// When the work was handed in (its last commit, else its newest file), RFC 3339.
        public var submitted: String?
        /// Under an assignment: the weighted score less what hints cost, and whether it is late.
        public var weighted: Double?
        public var late: Bool?

        public init(
            student: String, name: String? = nil, points: [String: Int], total: Int, hintsUsed: Int,
            gradedAt: String, seconds: Double, error: String? = nil, submitted: String? = nil
        ) {
            self.submitted = submitted
            self.student = student
            self.name = name
            self.points = points
            self.total = total
            self.hintsUsed = hintsUsed
            self.gradedAt = gradedAt
            self.seconds = seconds
            self.error = error
        }
    }

    /// Two submissions whose files of one exercise are the same, byte for byte or once
    /// whitespace and comments are set aside.
    public struct SameWork: Codable, Equatable, Sendable {
        public var exercise: String
        public var students: [String]
        public var kind: String
    }

    public var exercises: [String]
    public var maxPoints: [String: Int]
    public var assignment: Assignment?
    public var rows: [Row]
    /// The roster's students with no submission (each also has a row, its error saying so).
    public var missing: [String]
    public var sameWork: [SameWork]

    public var maxTotal: Int { exercises.reduce(0) { $0 + (maxPoints[$1] ?? 0) } }

    public static let noSubmission = "no submission"

    /// `roster`: the class, whose students without a row get one saying they handed in nothing.
    /// `assignment`: only its exercises count, weighted, with its hint policy and due date.
    public init(
        exercises: [String], maxPoints: [String: Int], rows: [Row], roster: Roster? = nil, sameWork: [SameWork] = [],
        assignment: Assignment? = nil
    ) {
        self.exercises = assignment?.exercises ?? exercises
        self.maxPoints = maxPoints
        self.assignment = assignment
        var rows = rows
        if let assignment {
            for index in rows.indices where rows[index].error == nil {
                let counted = rows[index].points.filter { assignment.exercises.contains($0.key) }
                rows[index].points = counted
                rows[index].total = counted.values.reduce(0, +)
                rows[index].weighted =
                    assignment.score(points: counted, maxPoints: maxPoints, hintsUsed: rows[index].hintsUsed).score
                rows[index].late = assignment.isLate(
                    rows[index].submitted.flatMap { ISO8601DateFormatter().date(from: $0) })
            }
        }
        if let roster {
            for index in rows.indices { rows[index].name = roster.name(of: rows[index].student) }
            let handedIn = Set(rows.map(\.student))
            missing = roster.students.map(\.id).filter { !handedIn.contains($0) }
            rows += roster.students.filter { !handedIn.contains($0.id) }.map {
                Row(
                    student: $0.id, name: $0.name, points: [:], total: 0, hintsUsed: 0, gradedAt: "", seconds: 0,
                    error: Self.noSubmission)
            }
        } else {
            missing = []
        }
        self.rows = rows.sorted { $0.student < $1.student }
        self.sameWork = sameWork
    }

    /// A row from one student's report (`contlab verify --format json`).
    public static func row(student: String, name: String?, report: GradeReport, hintsUsed: Int, gradedAt: String) -> Row
    {
        Row(
            student: student, name: name,
            points: Dictionary(report.exercises.map { ($0.id, $0.points) }, uniquingKeysWith: { $1 }),
            total: report.points, hintsUsed: hintsUsed, gradedAt: gradedAt,
            seconds: report.exercises.reduce(0) { $0 + $1.seconds })
    }

    /// The share of graded students with full points on `exercise` (0 to 1).
    public func passRate(_ exercise: String) -> Double {
        let graded = rows.filter { $0.error == nil }
        guard !graded.isEmpty, let max = maxPoints[exercise] else { return 0 }
        // Students who handed in nothing or could not be graded are not in the rate.
        return Double(graded.filter { $0.points[exercise] == max }.count) / Double(graded.count)
    }

    // MARK: CSV

    /// RFC 4180: a header row, then a row per student; a field with a comma, quote or line
    /// break is quoted, its quotes doubled. Spreadsheets open it as it is.
    public func csv() -> String {
        func field(_ text: String) -> String {
            text.contains { ",\"\n\r".contains($0) }
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        let weighted = assignment.map { $0.score(points: [:], maxPoints: maxPoints, hintsUsed: 0).max }
        var header = ["student", "name"] + exercises + ["total", "max"]
        if assignment != nil { header += ["weighted", "weighted max", "submitted", "late"] }
        var lines = [(header + ["hints used", "graded at", "seconds", "error"]).map(field).joined(separator: ",")]
        for row in rows {
            var fields = [row.student, row.name ?? ""]
            fields += exercises.map { row.points[$0].map(String.init) ?? "" }
            fields += [String(row.total), String(maxTotal)]
            if let weighted {
                fields += [
                    row.weighted.map { Self.number($0) } ?? "", Self.number(weighted), row.submitted ?? "",
                    row.late == true ? "late" : ""
                ]
            }
            fields += [String(row.hintsUsed), row.gradedAt, String(format: "%.1f", row.seconds), row.error ?? ""]
            lines.append(fields.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// 3, or 2.5: no trailing ".0" for whole numbers.
    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    // MARK: JSON

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

    // MARK: same work

    /// Submissions whose graded files of an exercise are the same, as pairs: byte for byte
    /// ("identical"), or once blank space and `#` / `//` comments are set aside ("the same
    /// apart from spacing and comments"). Files left as the starter gave them are no one's work
    /// and are not compared. `files[student][exercise]` is that exercise's graded files, by name.
    public static func sameWork(files: [String: [String: [String: [UInt8]]]], starters: [String: [String: [UInt8]]])
        -> [SameWork]
    {
        var found: [SameWork] = []
        let exercises = Set(files.values.flatMap(\.keys)).sorted()
        for exercise in exercises {
            var exact: [String: [String]] = [:]
            var loose: [String: [String]] = [:]
            for (student, byExercise) in files.sorted(by: { $0.key < $1.key }) {
                // Files as the starter gave them are no one's work (a build-track level's starters
                // hold every language's files; a workspace has its own language's).
                guard let graded = byExercise[exercise], !graded.isEmpty,
                    !graded.allSatisfy({ starters[exercise]?[$0.key] == $0.value })
                else { continue }
                let names = graded.keys.sorted()
                var whole = SHA256(), normal = SHA256()
                for name in names {
                    whole.update(name + "\0")
                    whole.update(graded[name]!)
                    normal.update(name + "\0")
                    normal.update(normalized(graded[name]!))
                }
                exact[SHA256.hex(whole.finalize()), default: []].append(student)
                loose[SHA256.hex(normal.finalize()), default: []].append(student)
            }
            var reported = Set<[String]>()
            for group in exact.values where group.count > 1 {
                for pair in pairs(group) where reported.insert(pair).inserted {
                    found.append(SameWork(exercise: exercise, students: pair, kind: "identical"))
                }
            }
            for group in loose.values where group.count > 1 {
                for pair in pairs(group) where reported.insert(pair).inserted {
                    found.append(
                        SameWork(exercise: exercise, students: pair, kind: "the same apart from spacing and comments"))
                }
            }
        }
        return found.sorted { ($0.exercise, $0.students.joined()) < ($1.exercise, $1.students.joined()) }
    }

    static func pairs(_ group: [String]) -> [[String]] {
        let sorted = group.sorted()
        var result: [[String]] = []
        for i in sorted.indices { for j in sorted.indices where j > i { result.append([sorted[i], sorted[j]]) } }
        return result
    }

    /// A file's text with comments (from `#` or `//` to the end of a line, but not `#!`) and all
    /// blank space removed: two copies that differ only there normalize alike.
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        var out = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var kept = Substring(line)
            if let hash = kept.firstIndex(of: "#"), !kept[hash...].hasPrefix("#!") { kept = kept[..<hash] }
            if let slashes = kept.range(of: "//") { kept = kept[..<slashes.lowerBound] }
            out += kept.filter { !$0.isWhitespace }
        }
        return Array(out.utf8)
    }
}

/// The class list: `id,name` lines (a header line is allowed), one student each.
public struct Roster: Equatable, Sendable {
    public var students: [(id: String, name: String)]

    public static func == (a: Roster, b: Roster) -> Bool {
        a.students.map(\.id) == b.students.map(\.id) && a.students.map(\.name) == b.students.map(\.name)
    }

    public static func parse(_ text: String) throws -> Roster {
        var students: [(id: String, name: String)] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard let id = fields.first, !id.isEmpty else { continue }
            if number == 0 && id.lowercased() == "id" { continue }
            guard !students.contains(where: { $0.id == id }) else {
                throw ExerciseError.roster("line \(number + 1): \(id) is listed twice")
            }
            students.append((id, fields.count > 1 ? fields[1] : ""))
        }
        guard !students.isEmpty else {
            throw ExerciseError.roster("no students in it: write one `id,name` line per student")
        }
        return Roster(students: students)
    }

    public func name(of id: String) -> String? { students.first { $0.id == id }?.name }
}
