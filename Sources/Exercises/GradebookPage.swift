import ContlabCore
import Foundation
import TextKit

/// The gradebook as one HTML page that needs no script and no network: the table, each
/// exercise's pass rate as a bar and the totals as a histogram, both SVG drawn here, then the
/// same-work pairs and who handed in nothing. English or Chinese.
extension Gradebook {
    public func html(language: Language) -> String {
        let zh = language == .zh
        func t(_ en: String, _ cn: String) -> String { zh ? cn : en }
        let e = Markup.escape
        var out = """
            <!DOCTYPE html>
            <html lang="\(zh ? "zh-Hans" : "en")"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(t("contlab gradebook", "contlab 成绩册"))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2rem; color: #1a1a1a; }
            table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
            th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: right; }
            th:first-child, td:first-child, td.name { text-align: left; }
            td.full { background: #e3f4e3; } td.zero { background: #fbe4e4; } td.error { color: #a00; text-align: left; }
            svg text { font-size: 12px; font-family: system-ui, sans-serif; }
            </style></head><body>
            <h1>\(t("Gradebook", "成绩册"))</h1>
            <p>\(t("\(rows.count) graded, \(missing.count) with no submission; \(maxTotal) points in all.", "已评 \(rows.count) 份，未交 \(missing.count) 人；满分 \(maxTotal) 分。"))</p>

            """
        // The table.
        out += "<table><thead><tr><th>\(t("student", "学生"))</th><th>\(t("name", "姓名"))</th>"
        out += exercises.map { "<th>\(e($0))</th>" }.joined() + "<th>\(t("total", "总分"))</th>"
        let weightedMax = assignment.map { $0.score(points: [:], maxPoints: maxPoints, hintsUsed: 0).max }
        if assignment != nil { out += "<th>\(t("weighted", "加权"))</th><th>\(t("late", "迟交"))</th>" }
        out += "<th>\(t("hints", "提示"))</th></tr></thead><tbody>\n"
        for row in rows {
            out += "<tr><td>\(e(row.student))</td><td class=\"name\">\(e(row.name ?? ""))</td>"
            if let error = row.error {
                out +=
                    "<td class=\"error\" "
                    + "colspan=\"\(exercises.count + (assignment == nil ? 2 : 4))\">\(e(error))</td></tr>\n"
                continue
            }
            for exercise in exercises {
                let points = row.points[exercise]
                let kind = points == maxPoints[exercise] ? " class=\"full\"" : points == 0 ? " class=\"zero\"" : ""
                out += "<td\(kind)>\(points.map(String.init) ?? "–")</td>"
            }
            out += "<td>\(row.total)/\(maxTotal)</td>"
            if let weightedMax {
                out +=
                    "<td>\(Self.number(row.weighted ?? 0))/\(Self.number(weightedMax))</td><td>\(row.late == true ? t("late", "迟交") : "")</td>"
            }
            out += "<td>\(row.hintsUsed)</td></tr>\n"
        }
        out += "</tbody></table>\n"
        out += "<h2>\(t("Pass rate per exercise", "各题通过率"))</h2>\n" + passRateChart(language: language)
        out += "<h2>\(t("Totals", "总分分布"))</h2>\n" + histogram(language: language)
        out += "<h2>\(t("The same work", "相同的作业"))</h2>\n"
        if sameWork.isEmpty {
            out += "<p>\(t("No two submissions share an exercise's files.", "没有两份作业的某题文件相同。"))</p>\n"
        } else {
            out +=
                "<ul>\n"
                + sameWork.map { pair in
                    "<li>\(e(pair.exercise)): \(pair.students.map(e).joined(separator: t(" and ", " 与 "))) — \(e(zh ? (pair.kind == "identical" ? "完全相同" : "除空白与注释外相同") : pair.kind))</li>\n"
                }.joined() + "</ul>\n"
        }
        if !missing.isEmpty {
            out += "<h2>\(t("No submission", "未提交"))</h2>\n<p>\(missing.map(e).joined(separator: ", "))</p>\n"
        }
        return out + "</body></html>\n"
    }

    /// One horizontal bar per exercise, its length the share of students with full points.
    func passRateChart(language: Language) -> String {
        let width = 420.0, barHeight = 18.0, left = 48.0
        let height = Double(exercises.count) * (barHeight + 6) + 10
        var svg =
            "<svg role=\"img\" width=\"\(Int(left + width + 60))\" height=\"\(Int(height))\" "
            + "xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<title>\(language == .zh ? "各题满分人数比例" : "Share of students with full points, per exercise")</title>"
        for (i, exercise) in exercises.enumerated() {
            let rate = passRate(exercise)
            let y = Double(i) * (barHeight + 6) + 4
            svg += "<text x=\"0\" y=\"\(fmt(y + 13))\">\(Markup.escape(exercise))</text>"
            svg +=
                "<rect x=\"\(fmt(left))\" y=\"\(fmt(y))\" width=\"\(fmt(width))\" height=\"\(fmt(barHeight))\" "
                + "fill=\"#eee\"/>"
            svg +=
                "<rect x=\"\(fmt(left))\" y=\"\(fmt(y))\" width=\"\(fmt(width * rate))\" height=\"\(fmt(barHeight))\" "
                + "fill=\"#3a7d44\"/>"
            svg += "<text x=\"\(fmt(left + width + 6))\" y=\"\(fmt(y + 13))\">\(Int((rate * 100).rounded()))%</text>"
        }
        return svg + "</svg>\n"
    }

    /// Totals in ten bins of the maximum, a column each, the count above it.
    func histogram(language: Language) -> String {
        let bins = 10, columnWidth = 40.0, plotHeight = 120.0
        var counts = [Int](repeating: 0, count: bins)
        for row in rows where row.error == nil {
            let share = maxTotal == 0 ? 0 : Double(row.total) / Double(maxTotal)
            counts[min(bins - 1, Int(share * Double(bins)))] += 1
        }
        let tallest = max(1, counts.max() ?? 1)
        var svg =
            "<svg role=\"img\" width=\"\(Int(Double(bins) * columnWidth + 10))\" height=\"\(Int(plotHeight + 40))\" "
            + "xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<title>\(language == .zh ? "总分分布（每格为满分的十分之一）" : "Totals, in tenths of the maximum")</title>"
        for (i, count) in counts.enumerated() {
            let h = plotHeight * Double(count) / Double(tallest)
            let x = Double(i) * columnWidth + 5
            svg +=
                "<rect x=\"\(fmt(x))\" y=\"\(fmt(plotHeight + 14 - h))\" width=\"\(fmt(columnWidth - 6))\" "
                + "height=\"\(fmt(h))\" fill=\"#4a6fa5\"/>"
            if count > 0 { svg += "<text x=\"\(fmt(x + 12))\" y=\"\(fmt(plotHeight + 10 - h))\">\(count)</text>" }
            svg += "<text x=\"\(fmt(x))\" y=\"\(fmt(plotHeight + 30))\">\(i * 10)%</text>"
        }
        return svg + "</svg>\n"
    }

    func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
