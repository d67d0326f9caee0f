import ArgumentParser

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Report what isolates this process (run it inside a container).")
    func run() throws {}
}
