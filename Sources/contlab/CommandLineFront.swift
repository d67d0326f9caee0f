import ArgumentParser
import ContlabCore
import Foundation

/// What stands between the arguments and swift-argument-parser: a mistyped subcommand gets a
/// suggestion instead of "unexpected argument".
extension Contlab {
    /// Parse the arguments and run the command; print help, the version and errors as
    /// swift-argument-parser's `main` does (help on stdout, errors on stderr, the same exit codes).
    static func start(_ arguments: [String]) -> Never {
        if let message = unknownSubcommand(in: arguments) {
            Sys.warn(message)
            terminate(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            terminate(ExitCode.success.rawValue)
        } catch {
            let code = exitCode(for: error)
            // `contlab history shw`: the default subcommand (timeline) refused the word.
            if code == .validationFailure, let message = unknownSubcommand(in: arguments, afterFailedParse: true) {
                Sys.warn(message)
                terminate(code.rawValue)
            }
            let text = fullMessage(for: error, columns: nil)
            if !text.isEmpty {
                if code == .success {
                    print(text)
                } else {
                    Sys.warn(text)
                }
            }
            terminate(code.rawValue)
        }
    }

    /// "did you mean" for a word where a subcommand belongs: `contlab stge 1` names `stage`.
    /// Nil when the words are subcommands (or options, or arguments a command takes), so that
    /// the parser handles them. A command with a default subcommand may take the word as that
    /// subcommand's argument (`contlab lessons stage1-chroot`), so it is judged only after the
    /// parser refused the words, and only when a subcommand's name is near.
    static func unknownSubcommand(in arguments: [String], afterFailedParse: Bool = false) -> String? {
        var command: ParsableCommand.Type = Contlab.self
        var path = [Contlab._commandName]
        for word in arguments {
            let subcommands = command.configuration.subcommands
            let hasDefault = command.configuration.defaultSubcommand != nil
            if word.hasPrefix("-") || subcommands.isEmpty || (hasDefault && !afterFailedParse) { return nil }
            if let next = subcommands.first(where: { $0._commandName == word || $0.configuration.aliases.contains(word) }) {
                command = next
                path.append(word)
                continue
            }
            if word == "help" { return nil }
            let names = subcommands.map { $0._commandName }
            let near = Suggestions.nearest(to: word, among: names, limit: 1)
            if hasDefault && near.isEmpty { return nil }
            let prefix = path.joined(separator: " ")
            var message = "\(prefix): unknown command '\(word)'"
            if let suggestion = near.first { message += "; did you mean '\(suggestion)'?" }
            return message + "\nSee '\(prefix) --help' for its commands."
        }
        return nil
    }
}

/// The C library's exit: inside a command type, `exit` names swift-argument-parser's.
private func terminate(_ code: Int32) -> Never {
    exit(code)
}
