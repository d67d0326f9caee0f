import TextKit

/// The few words the renderers add around a lesson, in the lesson's language. (The lessons'
/// own prose lives in lessons/; these are interface labels.)
struct Labels {
    var sources: String
    var links: String
    /// How an image appears in the terminal, from its alt text.
    var image: (String) -> String
    var history: String
    var allLessons: String
    var previous: String
    var next: String
    var siteTitle: String
    var siteIntro: String
    var stageLessons: String
    var historyLessons: String
    var noLessons: String
    private var stageFormat: (Int) -> String

    func stage(_ number: Int) -> String { stageFormat(number) }

    /// "Stage 1" or the era, for lists and page headers.
    func place(of metadata: LessonMetadata) -> String {
        switch metadata.kind {
        case .stage: return metadata.stage.map(stage) ?? ""
        case .history: return metadata.era ?? history
        }
    }

    static func of(_ language: Language) -> Labels {
        switch language {
        case .en:
            return Labels(
                sources: "Sources", links: "Links", image: { $0.isEmpty ? "image" : "image: \($0)" }, history: "History",
                allLessons: "All lessons", previous: "Previous", next: "Next",
                siteTitle: "contlab lessons",
                siteIntro: "How Linux containers work, built stage by stage, and where they came from.",
                stageLessons: "Stages", historyLessons: "History", noLessons: "No lessons yet.",
                stageFormat: { "Stage \($0)" })
        case .zh:
            return Labels(
                sources: "参考资料", links: "链接", image: { $0.isEmpty ? "图" : "图：\($0)" }, history: "历史",
                allLessons: "全部课程", previous: "上一课", next: "下一课",
                siteTitle: "contlab 课程",
                siteIntro: "一步步亲手构建 Linux 容器，了解它的原理与来历。",
                stageLessons: "阶段", historyLessons: "历史", noLessons: "暂无课程。",
                stageFormat: { "第 \($0) 阶段" })
        }
    }
}
