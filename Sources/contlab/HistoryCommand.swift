import ArgumentParser
import History

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Explore the history of containers, from data.")
    func run() throws { print("history: not yet") }
}
