import ArgumentParser
import ContlabCore
import TextKit

/// `--lang en|zh`, shared by every command that speaks both languages.
struct LanguageOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Language: en or zh (default: from LC_ALL, LC_MESSAGES or LANG).", valueName: "en|zh"))
    var lang: Language?

    var language: Language { lang ?? .preferred() }
}

extension Language: ExpressibleByArgument {}
