import Foundation
import TextKit

/// `contlab exercises solution B.N`: a build-track level's reference runtime, in the workspace's
/// language, once the student's own has passed that level with full marks — as each of
/// rubber-docker's levels starts from the last one's solution. The references are the ones the
/// tests grade (Tests/ExerciseSolutions/ID/reference-LANGUAGE in contlab's checkout); a copy goes
/// to the workspace's `solutions/ID/`, beside the student's folder and never over it.
public enum BuildTrackSolution {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notBuildTrack
        case notALevel(String)
        case notPassed(id: String, points: Int, of: Int)
        case missing(String)
        /// The checkout holds the level's references, but none in the workspace's language.
        case noReference(id: String, language: String, folder: String)

        public var description: String { text[Language.preferred()] }

        public var text: Localized {
            switch self {
            case .notBuildTrack:
                return Localized(
                    en: "solutions come with the build track's levels: make such a workspace with "
                        + "contlab exercises init DIR --track build --lang c (or go, python or swift)",
                    zh: "参考答案只属于 build 路线的关卡：用 contlab exercises init DIR --track build --lang c"
                        + "（或 go、python、swift）建一个这样的工作区")
            case .notALevel(let id):
                return Localized(
                    en: "\(id) is not a level of this workspace; its levels are listed by contlab exercises",
                    zh: "\(id) 不是这个工作区的关卡；contlab exercises 列出全部关卡")
            case .notPassed(let id, let points, let of):
                let last = of == 0 ? "not graded yet" : "last grading: \(points) of \(of)"
                let lastZH = of == 0 ? "还没有评过分" : "上次评分：\(points)/\(of)"
                return Localized(
                    en: "\(id)'s solution opens once your runtime passes it with full marks (\(last)); run "
                        + "contlab verify \(id), and contlab hint \(id) for help",
                    zh: "你的运行时在 \(id) 拿到满分后才能看参考答案（\(lastZH)）；"
                        + "先运行 contlab verify \(id)，需要帮助就用 contlab hint \(id)")
            case .missing(let path):
                return Localized(
                    en: "this contlab has no reference at \(path): the references come with a checkout of "
                        + "contlab (Tests/ExerciseSolutions); set CONTLAB_HOME to one",
                    zh: "这份 contlab 在 \(path) 没有参考答案：参考答案随 contlab 的源码检出一起提供"
                        + "（Tests/ExerciseSolutions）；请把 CONTLAB_HOME 指向一份检出")
            case .noReference(let id, let language, let folder):
                return Localized(
                    en: "\(id) has no reference runtime in \(language) yet; the ones in other languages are in "
                        + "\(folder), to read beside yours",
                    zh: "\(id) 还没有 \(language) 写的参考运行时；其他语言写的在 \(folder) 里，可以对照着你的读")
            }
        }
    }

    /// The folder to copy, or why not. Pure: `exists` says whether a folder is there.
    public static func source(
        for id: String, track: Workspace.Track?, levels: [String], progress: Workspace.Progress,
        home: URL, exists: (String) -> Bool
    ) throws -> URL {
        guard let track else { throw Refusal.notBuildTrack }
        guard let level = levels.first(where: { $0.caseInsensitiveCompare(id) == .orderedSame }) else {
            throw Refusal.notALevel(id)
        }
        let entry = progress[level]
        guard entry.status == .passed, entry.maxPoints > 0, entry.points == entry.maxPoints else {
            throw Refusal.notPassed(id: level, points: entry.points, of: entry.maxPoints)
        }
        let folder = home.appendingPathComponent("Tests/ExerciseSolutions/\(level)/reference-\(track.language)")
        guard exists(folder.path) else {
            let others = folder.deletingLastPathComponent()
            if exists(others.path) {
                throw Refusal.noReference(id: level, language: track.language, folder: others.path)
            }
            throw Refusal.missing(folder.path)
        }
        return folder
    }

    /// Where the copy goes in the workspace.
    public static func destination(for id: String, in workspace: Workspace) -> URL {
        workspace.root.appendingPathComponent("solutions", isDirectory: true).appendingPathComponent(id)
    }
}
