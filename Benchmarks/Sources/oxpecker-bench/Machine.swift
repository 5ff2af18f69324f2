import Foundation
import GRDB

/// What the benchmark ran on, printed with the results so figures can be compared.
struct Machine {
    var processors: Int
    var cpuModel: String
    var kernel: String
    var sqliteVersion: String
    var build: String

    static func describe() throws -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n")
            .first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let queue = try DatabaseQueue()
        let version = try queue.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") } ?? "unknown"
        #if DEBUG
        let build = "DEBUG build: figures are meaningless, use -c release"
        #else
        let build = "release"
        #endif
        return Machine(
            processors: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model, kernel: "Linux \(kernel)",
            sqliteVersion: version, build: build)
    }

    var lines: [String] {
        [
            "CPU: \(cpuModel), \(processors) online (nproc)",
            "OS: \(kernel)",
            "SQLite: \(sqliteVersion) (system library)",
            "Build: \(build)",
        ]
    }
}
