import ContlabCore
import TextKit

/// The table `contlab lessons` prints: id, stage or era, title, aligned in terminal columns.
public enum LessonList {
    public static func render(_ lessons: [Lesson], style: Style) -> String {
        guard let language = lessons.first?.language else { return "" }
        let labels = Labels.of(language)
        let rows = lessons.map { ($0.id, labels.place(of: $0.metadata), $0.title) }
        let idWidth = rows.map { Terminal.displayWidth($0.0) }.max() ?? 0
        let placeWidth = rows.map { Terminal.displayWidth($0.1) }.max() ?? 0
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - Terminal.displayWidth(text)))
        }
        return rows.map { id, place, title in
            style.bold(pad(id, idWidth)) + "  " + style.dim(pad(place, placeWidth)) + "  " + title + "\n"
        }.joined()
    }
}
