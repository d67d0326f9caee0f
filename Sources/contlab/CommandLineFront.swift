import ArgumentParser
import ContlabCore
import Foundation
import TextKit

/// What stands between the arguments and swift-argument-parser: a mistyped subcommand gets a
/// suggestion before parsing, and help is printed with its usage line wrapped to the width.
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
            let columns = helpColumns()
            let text = HelpLayout.wrappingUsage(fullMessage(for: error, columns: columns), width: columns)
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

    /// The help screen of `command` as `contlab … --help` prints it at `columns`.
    static func helpText(for command: ParsableCommand.Type, columns: Int) -> String {
        HelpLayout.wrappingUsage(helpMessage(for: command, columns: columns), width: columns)
    }

    /// The width swift-argument-parser lays help out for: $COLUMNS, else the terminal's, else 80.
    static func helpColumns(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let text = environment["COLUMNS"], let columns = Int(text), columns > 0 { return columns }
        return Terminal.columns(fd: STDOUT_FILENO, environment: [:])
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
            if let next = subcommands.first(where: {
                $0._commandName == word || $0.configuration.aliases.contains(word)
            }) {
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

/// swift-argument-parser wraps the overview and the options to the width but prints the usage
/// line as one line, however long; this wraps it, a bracketed group never split.
enum HelpLayout {
    static func wrappingUsage(_ text: String, width: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let line = String(line)
            guard line.count > width, let label = ["USAGE: ", "Usage: "].first(where: { line.hasPrefix($0) }) else {
                return line
            }
            return wrapUsage(String(line.dropFirst(label.count)), label: label, width: width)
        }.joined(separator: "\n")
    }

    /// `usage` is "contlab verify [<id>] [--stage <stage>] …": the command's words, then its
    /// arguments. Lines after the first start under the first argument, or 2 spaces in from the
    /// label when that is too far right to leave room.
    static func wrapUsage(_ usage: String, label: String, width: Int) -> String {
        let words = groups(usage)
        let commandWords = words.prefix { !($0.hasPrefix("[") || $0.hasPrefix("<") || $0.hasPrefix("-")) }
        var indent = label.count + commandWords.joined(separator: " ").count + 1
        if indent > width / 2 { indent = label.count + 2 }
        var lines: [String] = []
        var line = label + commandWords.joined(separator: " ")
        for word in words.dropFirst(commandWords.count) {
            if line.count + 1 + word.count > width, line.count > indent {
                lines.append(line)
                line = String(repeating: " ", count: indent) + word
            } else {
                line += (line.hasSuffix(" ") || line.isEmpty ? "" : " ") + word
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    /// Words at the top level: "[--step <step>]" and "[<command> ...]" stay whole.
    static func groups(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[", "<", "(": depth += 1
            case "]", ">", ")": depth = max(0, depth - 1)
            default: break
            }
            if character == " " && depth == 0 {
                if !current.isEmpty { result.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
