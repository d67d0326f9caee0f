import ArgumentParser
import ContlabCore
import Exercises
import Foundation
import TextKit

/// `contlab grade`: a teacher's whole class at once. Each workspace is graded by `contlab verify`
/// in a process of its own (its own containers, cgroups and image store), `--jobs` at a time,
/// nothing written into the submissions; the reports become one gradebook.
struct GradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grade",
        abstract: "Grade a class's workspaces at once into a gradebook (CSV, JSON, HTML).",
        discussion: """
            Give workspaces, or folders holding them (one per student, named after \
            them). Each is graded as contlab verify grades it, --jobs at a time, and \
            nothing is written into the submissions. The gradebook goes to --out: \
            gradebook.csv, gradebook.json and gradebook.html (a table, pass rates, the \
            totals' spread).

            --roster FILE (id,name per line) names the students and lists who handed in \
            nothing. --assignment FILE (assignment.yaml: exercises, weights, due, hints) \
            counts only its exercises, weighted, takes what hints cost and marks work \
            handed in after the due date (its last commit, else its newest file) late; \
            without it, the assignment the workspaces were made with counts. \
            Submissions whose graded files are the same, exactly or apart from spacing \
            and comments, are listed as pairs. --class-key FILE grades each workspace \
            against the values its student's variant has (exercises init --student), \
            whatever the workspace says. --merge takes reports made elsewhere (contlab \
            verify --format json, one file per student) instead of grading.

              sudo contlab grade submissions/ --roster class.csv --out grades
              contlab grade --merge reports/*.json --roster class.csv
            """)

    @Argument(help: "Workspaces, or folders of workspaces.") var submissions: [String] = []
    @Option(help: "A CSV of the class: id,name per line.") var roster: String?
    @Option(help: "An assignment.yaml: which exercises count, their weights, the due date, the hint policy.")
    var assignment: String?
    @Option(help: "How many workspaces to grade at once (default: the number of cores).") var jobs: Int?
    @Option(help: "Where to write the gradebook.") var out: String = "gradebook"
    @Option(help: "Seconds each exercise's work may run (as verify --timeout).") var timeout: Int?
    @Option(parsing: .upToNextOption, help: "Build the gradebook from these JSON reports instead of grading.")
    var merge: [String] = []
    @Option(
        help:
            ArgumentHelp(
                "The class key the workspaces were made with (exercises init --student): each is graded against its "
                    + "student's values.")
    )
    var classKey: String?
    @OptionGroup var language: LanguageOption

    func validate() throws {
        if submissions.isEmpty && merge.isEmpty {
            throw ValidationError("give the workspaces to grade (or a folder of them), or --merge REPORT.json…")
        }
        if !submissions.isEmpty && !merge.isEmpty {
            throw ValidationError("give workspaces to grade or --merge reports, not both")
        }
        if let jobs, !(1...256).contains(jobs) { throw ValidationError("--jobs must be 1 to 256") }
    }

    func run() throws {
        try reportingErrors(exitCode: 2) {
            let usual = try ExerciseSupport.catalog()
            let workspaces = merge.isEmpty ? try Self.expand(submissions) : []
            // The gradebook's columns: the usual exercises, and the build track's levels when a
            // workspace is of that track (a class may do both).
            let tracks = workspaces.map { Workspace(root: $0.root).loadTrack() }
            let buildLevels = try tracks.contains { $0 != nil } ? Self.buildTrack(language: nil) : nil
            let catalog = ExerciseCatalog(
                exercises: (tracks.contains { $0 == nil } || workspaces.isEmpty ? usual.exercises : [])
                    + (buildLevels?.exercises ?? []),
                directory: usual.directory)
            let classList = try roster.map { path -> Roster in
                guard let text = Sys.readText(path) else {
                    throw ExerciseError.unreadable(path, reason: "no such file, or not readable")
                }
                return try Roster.parse(text)
            }
            var task = try assignment.map { path -> Assignment in
                guard let text = Sys.readText(path) else {
                    throw ExerciseError.unreadable(path, reason: "no such file, or not readable")
                }
                return try Assignment.parse(text, known: catalog.exercises.map(\.id))
            }
            var rows: [Gradebook.Row] = []
            var sameWork: [Gradebook.SameWork] = []
            if merge.isEmpty {
                if task == nil {
                    // The assignment the workspaces were made with (exercises init --assignment).
                    task =
                        workspaces.lazy.compactMap {
                            try? Workspace(root: $0.root).loadAssignment(known: catalog.exercises.map(\.id))
                        }.first
                    if let task {
                        Sys.warn(
                            "contlab: using the assignment saved in the workspaces, \(task.title) (give --assignment "
                                + "FILE to use your own copy)"
                        )
                    }
                }
                // With a class key, each submission is graded against the values drawn for the
                // student its folder names, not the ones its workspace says.
                let keyed = try Variant.classKey(file: classKey) != nil
                rows = grade(workspaces, keyed: keyed)
                sameWork = Gradebook.sameWork(
                    files: try Self.gradedFiles(workspaces, usual: usual), starters: try Self.starters(usual))
            } else {
                rows = try merge.map { path in
                    let student = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw ExerciseError.unreadable(path, reason: "no such file")
                    }
                    do {
                        let report = try JSONDecoder().decode(GradeReport.self, from: data)
                        return Gradebook.row(
                            student: student, name: nil, report: report, hintsUsed: report.hintsUsed ?? 0,
                            gradedAt: Timestamp.rfc3339())
                    } catch {
                        throw ExerciseError.unreadable(
                            path, reason: "not a report of contlab verify --format json (\(error))")
                    }
                }
            }
            if let classList {
                let unknown = rows.map(\.student).filter { classList.name(of: $0) == nil }
                if !unknown.isEmpty { Sys.warn("contlab: not on the roster: \(unknown.joined(separator: ", "))") }
            }
            let book = Gradebook(
                exercises: catalog.exercises.map(\.id),
                maxPoints: Dictionary(
                    uniqueKeysWithValues: catalog.exercises.map { ($0.id, $0.checks.reduce(0) { $0 + $1.points }) }),
                rows: rows, roster: classList, sameWork: sameWork, assignment: task)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let lang: Language = language.language == .zh ? .zh : .en
            for (name, text) in [
                ("gradebook.csv", book.csv()), ("gradebook.json", book.json()),
                ("gradebook.html", book.html(language: lang))
            ] {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out + "/" + name))
            }
            let failed = rows.filter { $0.error != nil }.count
            print(
                "\(rows.count) graded\(failed > 0 ? " (\(failed) could not be)" : ""), \(book.missing.count) with no submission, \(sameWork.count) pair\(sameWork.count == 1 ? "" : "s") of the same work"
            )
            print("gradebook: \(out)/gradebook.csv, \(out)/gradebook.json, \(out)/gradebook.html")
        }
    }

    /// Each argument is a workspace, or a folder whose subfolders are: (student, root).
    static func expand(_ paths: [String]) throws -> [(student: String, root: URL)] {
        var found: [(student: String, root: URL)] = []
        for path in paths {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            if isWorkspace(url) {
                found.append((url.lastPathComponent, url))
                continue
            }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.sorted() ?? []
            let workspaces = children.map { url.appendingPathComponent($0) }.filter(isWorkspace)
            guard !workspaces.isEmpty else { throw ExerciseError.notAWorkspace(url.path) }
            found += workspaces.map { ($0.lastPathComponent, $0) }
        }
        let names = found.map(\.student)
        if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ValidationError("two submissions are named \(twice): each student's folder needs a name of its own")
        }
        return found
    }

    static func isWorkspace(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent(".contlab/workspace.json").path)
    }

    /// Grade every workspace through `contlab verify` children, `jobs` at a time, showing
    /// progress: one line rewritten on a terminal, a line per student otherwise.
    func grade(_ workspaces: [(student: String, root: URL)], keyed: Bool) -> [Gradebook.Row] {
        let limit = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let onTerminal = isatty(STDERR_FILENO) == 1
        var queue = workspaces[...]
        var running: [(student: String, root: URL, process: Process, output: String, started: Date)] = []
        var rows: [Gradebook.Row] = []
        let scratch = NSTemporaryDirectory() + "contlab-gradebook-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(
            atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func show() {
            let done = rows.count, total = workspaces.count
            if onTerminal {
                let width = 30, filled = total == 0 ? width : width * done / total
                FileHandle.standardError.write(
                    Data(
                        "\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(total) graded, \(running.count) running "
                            .utf8))
            }
        }
        while !queue.isEmpty || !running.isEmpty {
            while running.count < limit, let next = queue.popFirst() {
                let output = scratch + "/\(rows.count + running.count).json"
                FileManager.default.createFile(atPath: output, contents: nil)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: Sys.readLink("/proc/self/exe") ?? CommandLine.arguments[0])
                process.arguments =
                    [
                        "verify", "--workspace", next.root.path, "--format", "json", "--no-save", "--lang",
                        language.language.rawValue
                    ]
                    + (timeout.map { ["--timeout", "\($0)"] } ?? [])
                    + (keyed ? ["--student", next.student] + (classKey.map { ["--class-key", $0] } ?? []) : [])
                let made = Workspace(root: next.root).loadVariant().student
                if keyed, let made, made != next.student {
                    Sys.warn(
                        "contlab: \(next.student)'s workspace was made for \(made); it is graded "
                            + "against \(next.student)'s values"
                    )
                }
                process.standardOutput = FileHandle(forWritingAtPath: output)
                // verify's own words, for the gradebook when it cannot grade.
                FileManager.default.createFile(atPath: output + ".err", contents: nil)
                process.standardError = FileHandle(forWritingAtPath: output + ".err")
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                    running.append((next.student, next.root, process, output, Date()))
                } catch {
                    rows.append(
                        Gradebook.Row(
                            student: next.student, points: [:], total: 0, hintsUsed: 0, gradedAt: Timestamp.rfc3339(),
                            seconds: 0, error: "could not start contlab verify: \(error)"))
                }
            }
            show()
            usleep(50_000)
            for (index, job) in running.enumerated().reversed() where !job.process.isRunning {
                running.remove(at: index)
                let status = job.process.terminationStatus
                let hints = Workspace(root: job.root).loadProgress().exercises.values.reduce(0) {
                    $0 + $1.hintsShown.values.reduce(0, +)
                }
                var row: Gradebook.Row
                if let data = FileManager.default.contents(atPath: job.output),
                    let report = try? JSONDecoder().decode(GradeReport.self, from: data)
                {
                    row = Gradebook.row(
                        student: job.student, name: nil, report: report, hintsUsed: hints, gradedAt: Timestamp.rfc3339()
                    )
                    row.seconds = Date().timeIntervalSince(job.started)
                    row.submitted = Self.submittedAt(job.root)
                } else {
                    row = Gradebook.Row(
                        student: job.student, points: [:], total: 0, hintsUsed: hints, gradedAt: Timestamp.rfc3339(),
                        seconds: Date().timeIntervalSince(job.started),
                        error: "contlab verify could not grade it (exit \(status))" + Self.reason(job.output + ".err"))
                }
                rows.append(row)
                if !onTerminal { Sys.warn("graded \(job.student): \(row.error ?? "\(row.total) points")") }
            }
        }
        if onTerminal { show(); Sys.warn("") }
        return rows
    }

    /// The last line verify wrote to stderr, after a colon: why it could not grade.
    static func reason(_ path: String) -> String {
        let lines = (Sys.readText(path) ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return lines.last.map { ": " + $0 } ?? ""
    }

    /// How to ask git for a workspace's last commit time without running a student's code as
    /// anyone else. A repository's own config names programs git runs (gpg.program for a
    /// signed commit, core.fsmonitor, a pager…), so git runs as the workspace's owner: root
    /// drops to it (to nobody for a root-owned copy, whose config came from a student all the
    /// same), and another user asks git only about their own repositories (nil: the files'
    /// times are used instead). Pure.
    static func gitLogCommand(_ path: String, owner: uid_t, group: gid_t, euid: uid_t) -> [String]? {
        let git = [
            "git", "--no-pager", "-c", "safe.directory=*", "-C", path, "log", "-1", "--no-show-signature",
            "--format=%cI"
        ]
        if euid == 0 {
            let (uid, gid) = owner == 0 ? (uid_t(65534), gid_t(65534)) : (owner, group)
            return ["setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--inh-caps=-all", "--"] + git
        }
        return owner == euid ? git : nil
    }

    /// git's environment for that: no system or user config (only the repository's, as its
    /// owner), and no home.
    static let gitEnvironment = [
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null", "LC_ALL": "C"
    ]

    /// When a workspace was handed in: its last commit's time when it is a git repository, else
    /// the newest modification time of a file in it (contlab's own .contlab/ left out).
    static func submittedAt(_ root: URL) -> String? {
        var info = stat()
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path),
            stat(root.path, &info) == 0,
            let command = gitLogCommand(root.path, owner: info.st_uid, group: info.st_gid, euid: geteuid()),
            let log = try? HostCommand.run(command, environment: gitEnvironment), log.succeeded
        {
            let text = log.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if let date = ISO8601DateFormatter().date(from: text) { return ISO8601DateFormatter().string(from: date) }
        }
        var newest: Date?
        let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.contentModificationDateKey, .isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            if url.lastPathComponent == ".contlab" || url.lastPathComponent == ".git" {
                walker?.skipDescendants(); continue
            }
            let values = try? url.resourceValues(forKeys: [.contentModificationDateKey, .isRegularFileKey])
            if values?.isRegularFile == true, let date = values?.contentModificationDate,
                date > (newest ?? .distantPast)
            {
                newest = date
            }
        }
        return newest.map { ISO8601DateFormatter().string(from: $0) }
    }

    /// The build track's levels, with the files of `language` (nil: of every language it offers).
    static func buildTrack(language: String?) throws -> ExerciseCatalog {
        let levels = try ExerciseSupport.catalog(track: Workspace.Track(language: language ?? "c"))
        guard language == nil else { return levels }
        return ExerciseCatalog(
            exercises: levels.exercises.map { level in
                var level = level
                level.files = Array(Set((level.languages ?? [:]).values.joined())).sorted()
                return level
            }, directory: levels.directory)
    }

    /// Each workspace's graded files (the exercise's `files`, for a build-track workspace those
    /// of its language), by exercise and name.
    static func gradedFiles(_ workspaces: [(student: String, root: URL)], usual: ExerciseCatalog) throws -> [String:
        [String: [String: [UInt8]]]]
    {
        var result: [String: [String: [String: [UInt8]]]] = [:]
        for (student, root) in workspaces {
            let space = Workspace(root: root)
            let catalog = try space.loadTrack().map { try buildTrack(language: $0.language) } ?? usual
            for exercise in catalog.exercises {
                var files: [String: [UInt8]] = [:]
                for name in exercise.files {
                    if let data = FileManager.default.contents(
                        atPath: space.folder(for: exercise).appendingPathComponent(name).path)
                    {
                        files[name] = [UInt8](data)
                    }
                }
                result[student, default: [:]][exercise.id] = files
            }
        }
        return result
    }

    /// The starter files, which are no one's own work: the usual exercises' and, for the build
    /// track's levels, those of every language (each language's files have names of their own).
    static func starters(_ usual: ExerciseCatalog) throws -> [String: [String: [UInt8]]] {
        var result: [String: [String: [UInt8]]] = [:]
        let levels = (try? buildTrack(language: nil).exercises) ?? []
        for exercise in usual.exercises + levels {
            var files: [String: [UInt8]] = [:]
            for name in exercise.files {
                let places =
                    exercise.track == nil
                    ? [exercise.directory + "/starter/" + name]
                    : (exercise.languages ?? [:]).keys.sorted().map { exercise.directory + "/starter/\($0)/" + name }
                if let data = places.lazy.compactMap({ FileManager.default.contents(atPath: $0) }).first {
                    files[name] = [UInt8](data)
                }
            }
            result[exercise.id] = files
        }
        return result
    }
}
