import Lessons
import TextKit

/// The few words the text report and the progress list put around the exercises' own text, in
/// the student's language. (Tasks, titles and hints live in exercises/.)
public struct ExerciseLabels: Sendable {
    public var pass: String
    public var fail: String
    public var expected: String
    public var seen: String
    public var hint: String
    public var done: String
    public var failing: String
    public var notStarted: String
    public var history: String
    public var noHint: String
    /// In place of the hint line when a build-track runtime did not build: the hints are
    /// about the checks, and none of them ran.
    public var fixBuild: String
    private var hintFormat: @Sendable (String) -> String
    private var stageFormat: @Sendable (Int) -> String
    private var totalFormat: @Sendable (Int, Int, Int, Int) -> String

    public func stage(_ number: Int) -> String { stageFormat(number) }
    /// "for a hint: contlab hint 2.2"
    public func askForHint(_ id: String) -> String { hintFormat(id) }
    public func group(_ exercise: Exercise) -> String {
        // The build track's levels follow the stages they re-create: "stage 2" reads right in
        // a workspace that holds only the track.
        exercise.stage.map(stage) ?? history
    }
    /// "7/12 points, 1 of 3 exercises complete"
    public func total(points: Int, of maxPoints: Int, complete: Int, of count: Int) -> String {
        totalFormat(points, maxPoints, complete, count)
    }

    public static func of(_ language: Language) -> ExerciseLabels {
        switch language {
        case .en:
            return ExerciseLabels(
                pass: "pass", fail: "FAIL", expected: "expected:", seen: "seen:    ", hint: "hint:    ",
                done: "done", failing: "failing", notStarted: "not started", history: "history",
                noHint: "passes every check: no hint needed.",
                fixBuild: "your runtime did not build: fix what \"seen\" quotes first (the hints are about the checks)",
                hintFormat: { "for a hint, run contlab hint \($0)" },
                stageFormat: { "stage \($0)" },
                totalFormat: { "\($0)/\($1) points, \($2) of \($3) exercise\($3 == 1 ? "" : "s") complete" })
        case .zh:
            return ExerciseLabels(
                pass: "通过", fail: "失败", expected: "预期：", seen: "实际：", hint: "提示：",
                done: "完成", failing: "未通过", notStarted: "未开始", history: "历史",
                noHint: "所有检查都已通过，不需要提示。",
                fixBuild: "你的运行时没有构建成功：先修好“实际”里引用的错误（提示讲的是各项检查）",
                hintFormat: { "需要提示时运行 contlab hint \($0)" },
                stageFormat: { "第 \($0) 阶段" },
                totalFormat: { "\($0)/\($1) 分，已完成 \($2)/\($3) 道练习" })
        }
    }
}
