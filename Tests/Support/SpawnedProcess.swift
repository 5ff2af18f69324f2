import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process of a test, started with `posix_spawn` rather than Foundation's
/// `Process`: in Swift 6.3 on Linux, `Process.run()` lists `/proc/self/fd` with a
/// buffer over-read that crashes a test process holding many descriptors
/// (swift-corelibs-foundation PR 5472; seen here when the whole suite runs at once).
///
/// Standard input is `/dev/null`; standard output and error go to files (never
/// pipes: a chatty child can never block on a full pipe); descriptors above 2 are
/// closed in the child, which starts in `directory`.
public final class SpawnedProcess: Sendable {
    public let pid: pid_t
    public let executable: String
    public let arguments: [String]
    /// How the process ended, once reaped: its exit status, or the signal that ended it.
    private let ending = Mutex<(status: Int32, signaled: Bool)?>(nil)

    public init(
        executable: String, arguments: [String], environment: [String: String], directory: String, stdout: String, stderr: String
    ) throws {
        self.executable = executable
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_APPEND, 0)
        // glibc 2.34+ has both; the Glibc module does not import them, so they are looked up.
        guard let closeFrom = Self.function("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self),
            let changeDirectory = Self.function("posix_spawn_file_actions_addchdir_np", as: AddChangeDirectory.self)
        else { throw POSIXError(.ENOSYS) }
        guard closeFrom(&actions, 3) == 0, changeDirectory(&actions, directory) == 0 else { throw POSIXError(.EINVAL) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        self.pid = pid
    }

    deinit {
        if isRunning {
            _ = Glibc.kill(pid, SIGKILL)
            waitUntilExit()
        }
    }

    /// Whether the process has not ended yet (it is reaped as soon as it has).
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Waits for the process to end.
    public func waitUntilExit() { _ = reap(blocking: true) }

    /// The exit status, or the signal's number when ``signaled``; after the process ended.
    public var terminationStatus: Int32 { reap(blocking: true)?.status ?? -1 }

    /// Whether a signal ended the process.
    public var signaled: Bool { reap(blocking: true)?.signaled ?? false }

    /// Sends `signal` to the process if it still runs.
    public func send(_ signal: Int32) {
        if isRunning { _ = Glibc.kill(pid, signal) }
    }

    private func reap(blocking: Bool) -> (status: Int32, signaled: Bool)? {
        ending.withLock { ending in
            if let ending { return ending }
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &status, blocking ? 0 : WNOHANG) } while result == -1 && errno == EINTR
            guard result == pid else { return nil }
            // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which Swift does not import (they are macros).
            let signal = status & 0x7f
            ending = signal == 0 ? ((status >> 8) & 0xff, false) : (signal, true)
            return ending
        }
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    private static func function<T>(_ name: String, as type: T.Type) -> T? {
        dlsym(nil, name).map { unsafeBitCast($0, to: type) }
    }
}
