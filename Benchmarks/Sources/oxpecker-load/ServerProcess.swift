import Foundation

/// A real `oxpecker-server` process on a loopback port the system picks, with
/// its output in files of the run's folder. Stopped with SIGTERM by ``stop()``.
final class ServerProcess: @unchecked Sendable {
    // Driven by the load command's task alone.
    let binary: String
    /// The storage options: `--data-dir DIR` or `--postgres URL`.
    let backend: [String]
    let process: Process
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    /// Starts `binary serve` on port 0 and waits for the line that names the port.
    init(binary: String, backend: [String], folder: String, name: String) throws {
        self.binary = binary
        self.backend = backend
        let output = folder + "/\(name).out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        _ = FileManager.default.createFile(atPath: folder + "/\(name).err", contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "warning"] + backend
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/\(name).err"))
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber })
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard let found else {
            process.terminate()
            let errors = (try? String(contentsOfFile: folder + "/\(name).err", encoding: .utf8)) ?? ""
            throw LoadError.server("oxpecker-server did not start: \(errors.suffix(2000))")
        }
        port = found
    }

    /// Makes a device token with `oxpecker-server token create` against the same storage.
    static func createToken(binary: String, backend: [String], scopes: [String]) throws -> String {
        let output = try run(binary, ["token", "create", "--name", "oxpecker-load"] + scopes.flatMap { ["--scope", $0] } + backend)
        guard let token = output.split(separator: "\n").first.map(String.init), !token.isEmpty else {
            throw LoadError.server("token create printed no token")
        }
        return token
    }

    /// The server's merged state, as `oxpecker-server export` prints it.
    static func exportState(binary: String, backend: [String]) throws -> String {
        try run(binary, ["export"] + backend)
    }

    /// CPU seconds and peak resident memory so far (from /proc).
    var usage: (cpuSeconds: Double, peakMiB: Double?) { ProcessUsage.of(pid: process.processIdentifier) }

    /// SIGTERM, then waits for the process to end.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    private static func run(_ binary: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LoadError.server("oxpecker-server \(arguments.first ?? "") failed: \(errorText)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// CPU time and peak memory of processes, read from /proc (Linux).
enum ProcessUsage {
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// User + system CPU seconds of `pid` (with `children`: plus its waited-for children), and its peak RSS.
    static func of(pid: Int32, children: Bool = false) -> (cpuSeconds: Double, peakMiB: Double?) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return (0, nil) }
        // Fields after the command name: state is field 3; utime 14, stime 15, cutime 16, cstime 17.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double { Double(fields[number - 3]) ?? 0 }
        var ticks = field(14) + field(15)
        if children { ticks += field(16) + field(17) }
        return (ticks / ticksPerSecond, peakMiB(pid: pid))
    }

    /// VmHWM of `pid` in MiB.
    static func peakMiB(pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return nil }
        return kib / 1024
    }

    /// This process's user + system CPU seconds (getrusage).
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// CPU seconds of a PostgreSQL cluster: the postmaster (with the backends it reaped) and its live children.
    static func postgresCPUSeconds(postmaster: Int32) -> Double {
        var total = of(pid: postmaster, children: true).cpuSeconds
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, Int32(fields[1]) == postmaster { total += of(pid: pid).cpuSeconds }
        }
        return total
    }
}

/// Why the load run could not run or finish.
enum LoadError: Error, CustomStringConvertible {
    case server(String)
    case notLoopback(String)
    case setup(String)

    var description: String {
        switch self {
        case .server(let text): text
        case .notLoopback(let url): "\(url) is not a loopback address: oxpecker-load only targets 127.0.0.1, ::1 or localhost"
        case .setup(let text): text
        }
    }
}
