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
    var contents: String
    var tryIt: String
    var walkthrough: String
    var exercisesIntro: String
    var timeline: String
    var timelineIntro: String
    var search: String
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
                sources: "Sources", links: "Links", image: { $0.isEmpty ? "image" : "image: \($0)" },
                history: "History",
                allLessons: "All lessons", previous: "Previous", next: "Next",
                siteTitle: "contlab lessons",
                siteIntro: "How Linux containers work, built stage by stage, and where they came from.",
                stageLessons: "Stages", historyLessons: "History", noLessons: "No lessons yet.",
                contents: "On this page", tryIt: "Do it for real:", walkthrough: "the guided walk-through is",
                exercisesIntro: "Graded exercises for this stage: make a workspace with",
                timeline: "The timeline: 1979 to today, as a picture",
                timelineIntro:
                    "Years run left to right; each lane is a kind of change, each row a technology. Point at a mark, "
                    + "or move to it with Tab, to read its card; a mark opens the lesson that tells it.",
                search: "Search the lessons and the history",
                stageFormat: { "Stage \($0)" })
        case .zh:
            return Labels(
                sources: "参考资料", links: "链接", image: { $0.isEmpty ? "图" : "图：\($0)" }, history: "历史",
                allLessons: "全部课程", previous: "上一课", next: "下一课",
                siteTitle: "contlab 课程",
                siteIntro: "一步步亲手构建 Linux 容器，了解它的原理与来历。",
                stageLessons: "阶段", historyLessons: "历史", noLessons: "暂无课程。",
                contents: "本页内容", tryIt: "动手做：", walkthrough: "带你一步步运行的演示是",
                exercisesIntro: "本阶段的评分练习：先建立工作区",
                timeline: "时间线：从 1979 年到今天，一图看尽",
                timelineIntro: "年份从左到右；每一条泳道是一类变化，每一行是一项技术。把鼠标指向某个点，或用 Tab 键移到它上面，就能看到它的卡片；点击会打开讲述它的课程。",
                search: "搜索课程与历史",
                stageFormat: { "第 \($0) 阶段" })
        }
    }
}
