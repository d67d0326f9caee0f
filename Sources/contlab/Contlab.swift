import ArgumentParser

struct Contlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contlab",
        abstract: "A lab that builds Linux containers stage by stage, for real, and tells their history.",
        subcommands: [LessonsCommand.self, HistoryCommand.self])
}
