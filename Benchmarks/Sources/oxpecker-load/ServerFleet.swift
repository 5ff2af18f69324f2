import Foundation

/// The servers the devices talk to: processes this run started (SQLite in the
/// run's folder, or N instances on one PostgreSQL database), or running ones.
final class ServerFleet: @unchecked Sendable {
    // Made and stopped by the load command's task alone.
    let urls: [String]
    /// A token for every scope: the seeding device's, and the one the checks read the log with.
    let token: String
    /// One token per scope of ``LoadCommand/scopeNames``, in order (the devices' tokens).
    let scopeTokens: [String]
    /// Describes the backend for the report: `sqlite`, `postgres` or `external`.
    let backend: String
    let processes: [ServerProcess]
    let binary: String?
    let storage: [String]
    let postgresPid: Int32?

    private init(
        urls: [String], token: String, scopeTokens: [String], backend: String, processes: [ServerProcess], binary: String?, storage: [String],
        postgresPid: Int32?
    ) {
        self.urls = urls
        self.token = token
        self.scopeTokens = scopeTokens
        self.backend = backend
        self.processes = processes
        self.binary = binary
        self.storage = storage
        self.postgresPid = postgresPid
    }

    static func start(options: LoadCommand, folder: String) throws -> ServerFleet {
        if let server = options.server, let token = options.token {
            let urls = server.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            return ServerFleet(
                urls: urls, token: token, scopeTokens: [token], backend: "external", processes: [], binary: nil, storage: [],
                postgresPid: options.postgresPid)
        }
        let binary = options.serverBinary ?? Self.siblingBinary()
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LoadError.setup("no oxpecker-server at \(binary): build it (swift build -c release --package-path Benchmarks) or pass --server-binary")
        }
        let storage = options.postgres.map { ["--postgres", $0] } ?? ["--data-dir", folder + "/server"]
        let scopes = options.scopeNames
        let token = try ServerProcess.createToken(binary: binary, backend: storage, scopes: scopes)
        let scopeTokens = scopes.count == 1 ? [token] : try scopes.map { try ServerProcess.createToken(binary: binary, backend: storage, scopes: [$0]) }
        var processes: [ServerProcess] = []
        for index in 0..<options.instances {
            processes.append(try ServerProcess(binary: binary, backend: storage, folder: folder, name: "server-\(index)"))
        }
        return ServerFleet(
            urls: processes.map(\.url), token: token, scopeTokens: scopeTokens, backend: options.postgres == nil ? "sqlite" : "postgres", processes: processes,
            binary: binary, storage: storage, postgresPid: options.postgresPid)
    }

    /// `oxpecker-server` in the folder of this executable (the Benchmarks package builds it there).
    static func siblingBinary() -> String {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return own.deletingLastPathComponent().appendingPathComponent("oxpecker-server").path
    }

    /// The server's merged state by `oxpecker-server export`, when this run owns the storage.
    func exportState() throws -> String? {
        guard let binary else { return nil }
        return try ServerProcess.exportState(binary: binary, backend: storage)
    }

    /// CPU seconds and peak memory of each server process and of the database, so far.
    func usage() -> [(name: String, cpuSeconds: Double, peakMiB: Double?)] {
        var list = processes.enumerated().map { index, process in
            let usage = process.usage
            return (name: "oxpecker-server \(index + 1)", cpuSeconds: usage.cpuSeconds, peakMiB: usage.peakMiB)
        }
        if let postgresPid {
            list.append((name: "PostgreSQL", cpuSeconds: ProcessUsage.postgresCPUSeconds(postmaster: postgresPid), peakMiB: nil))
        }
        return list
    }

    func stop() {
        for process in processes { process.stop() }
    }
}
