/// The results as one table (figure, median, min–max, baseline, ratio, goal, met?)
/// with the machine and the details beneath, as plain text and as Markdown.
struct Report {
    struct Row {
        var figure: String
        var median: String
        var range: String
        var baseline: String
        var ratio: String
        var goal: String
        var met: String
    }

    static let header = Row(figure: "figure", median: "median", range: "min–max", baseline: "baseline", ratio: "ratio", goal: "goal", met: "met?")

    var command: String
    var machine: Machine
    var rows: [Row] = []
    var details: [String] = []

    var text: String {
        let all = [Self.header] + rows
        func cells(_ row: Row) -> [String] { [row.figure, row.median, row.range, row.baseline, row.ratio, row.goal, row.met] }
        var widths = [Int](repeating: 0, count: 7)
        for row in all { for (index, cell) in cells(row).enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ row: Row) -> String {
            cells(row).enumerated().map { index, cell in cell + String(repeating: " ", count: widths[index] - cell.count) }
                .joined(separator: "  ")
        }
        var lines = [line(Self.header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(line)
        lines += ["", "Machine:"] + machine.lines.map { "  " + $0 }
        lines += ["", "Details:"] + details.map { "  - " + $0 }
        return lines.joined(separator: "\n")
    }

    var markdown: String {
        func line(_ row: Row) -> String {
            "| " + [row.figure, row.median, row.range, row.baseline, row.ratio, row.goal, row.met]
                .map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        var lines = ["Command: `\(command)`", "", line(Self.header), "|" + String(repeating: " --- |", count: 7)]
        lines += rows.map(line)
        lines += ["", "Machine:", ""] + machine.lines.map { "- " + $0 }
        lines += ["", "Details:", ""] + details.map { "- " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
