import ArgumentParser
import Lessons

struct LessonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lessons", abstract: "Read the lessons in the terminal or export them as HTML.")
    func run() throws { print("lessons: not yet (cmark \(LessonsModule.cmarkVersion))") }
}
