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
    /// Hand-written notes from the report this one replaces (after ``notesMarker``), kept at the end.
    var keptNotes = ""
    static let notesMarker = "<!-- Notes below this line are kept when oxpecker-bench rewrites this file. -->"
    /// Medians by figure from the report this one replaces (`--markdown` of an existing file).
    var previous: [String: String] = [:]

    /// The median of every figure in a Markdown report this tool wrote, by figure.
    static func figures(inMarkdown text: String) -> [String: String] {
        var figures: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.dropFirst(2).split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[0] != "figure", !cells[1].hasPrefix("---") else { continue }
            figures[cells[0]] = cells[1]
        }
        return figures
    }

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
        func line(_ row: Row, previous: String) -> String {
            "| " + [row.figure, row.median, row.range, row.baseline, row.ratio, row.goal, row.met, previous]
                .map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        func figureLine(_ row: Row) -> String { line(row, previous: previous[row.figure] ?? "–") }
        var lines = [
            "# Benchmarks", "",
            "Written by one run of `oxpecker-bench` (every figure is measured in that run, next to its baseline measured in the same run; "
                + "\"previous\" is the figure from the report this one replaced). Run it from the repository root:", "",
            "```sh",
            "swift run -c release --package-path Benchmarks oxpecker-bench --markdown BENCHMARKS.md   # --quick: a few minutes", "```", "",
            "Command: `\(command)`", "", line(Self.header, previous: "previous (the report this one replaced)"),
            "|" + String(repeating: " --- |", count: 8),
        ]
        lines += rows.map(figureLine)
        lines += ["", "Machine:", ""] + machine.lines.map { "- " + $0 }
        lines += ["", "Details:", ""] + details.map { "- " + $0 }
        lines += ["", Self.notesMarker, keptNotes]
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
