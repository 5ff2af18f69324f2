import Foundation
import PostgresNIO
import Synchronization

/// Turns PostgreSQL being away, slow or restarting into `storage_unavailable`
/// (HTTP 503, retry later): the server itself keeps running and recovers as
/// soon as the database answers again, because the pool opens new connections
/// for the next requests.
enum PostgresFailure {
    /// Runs `body`, failing with `storage_unavailable` if it takes longer than
    /// `limit` (a database that does not answer; nil: no limit) or fails because
    /// the database is unreachable, shutting down or cancelled the statement.
    static func guarding<T: Sendable>(
        _ what: String, limit: Duration?, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        do {
            guard let limit else { return try await body() }
            return try await Deadline.race(body, limit: limit) {
                ServerError(.storageUnavailable, "the database did not answer within \(limit) (\(what)); retry later")
            }
        } catch let error as PSQLError where isUnavailable(error) {
            throw ServerError(.storageUnavailable, "the database is unavailable (\(what)): \(summary(of: error)); retry later")
        } catch let error as PostgresTransactionError {
            // BEGIN, the body, COMMIT or ROLLBACK failed; a failed COMMIT may or may not have
            // committed, which is why a retried push is answered with duplicates, never twice.
            let inner = [error.beginError, error.closureError, error.commitError, error.rollbackError].compactMap { $0 }
            if let failure = inner.compactMap({ $0 as? PSQLError }).first(where: isUnavailable) {
                throw ServerError(.storageUnavailable, "the database is unavailable (\(what)): \(summary(of: failure)); retry later")
            }
            // The body's own errors (a refusal, an unknown customer) come out as they went in.
            if let closure = error.closureError, !(closure is PSQLError) { throw closure }
            throw error
        } catch is CancellationError {
            throw ServerError(.storageUnavailable, "the database call was cancelled (\(what)); retry later")
        }
    }

    /// Whether `error` means the database is away or overloaded rather than a bug in a query.
    static func isUnavailable(_ error: PSQLError) -> Bool {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled,
            .sslUnsupported, .failedToAddSSLHandler:
            return true
        case .server:
            // 08: connection exception, 53: insufficient resources, 57: operator intervention
            // (shutdown, statement timeout), 40: serialization failure or deadlock (retry).
            let state = error.serverInfo?[.sqlState] ?? ""
            return ["08", "53", "57", "40"].contains(String(state.prefix(2)))
        default:
            return false
        }
    }

    /// A one-line description of `error` for people.
    static func summary(of error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }
}

/// Runs work against a deadline without waiting for it past the deadline: a
/// call stuck in the driver (a connection that died without a word) must not
/// hold the request it serves. The work is cancelled and left to end on its own.
private final class Deadline<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>
    private let work = Mutex<Task<Void, Never>?>(nil)

    private init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    /// Resumes the waiting caller once; false if it was resumed already.
    @discardableResult
    private func finish(_ result: Result<T, any Error>) -> Bool {
        guard let continuation = continuation.withLock({ state in defer { state = nil }; return state }) else { return false }
        continuation.resume(with: result)
        return true
    }

    /// `body`'s result, or `expired()` thrown once `limit` has passed.
    static func race(
        _ body: @escaping @Sendable () async throws -> T, limit: Duration, expired: @escaping @Sendable () -> any Error
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let deadline = Deadline(continuation)
            let timer = Task {
                try? await Task.sleep(for: limit)  // cancelled when the work ends first
                if !Task.isCancelled, deadline.finish(.failure(expired())) { deadline.work.withLock { $0 }?.cancel() }
            }
            let work = Task {
                do { deadline.finish(.success(try await body())) } catch { deadline.finish(.failure(error)) }
                timer.cancel()
            }
            deadline.work.withLock { $0 = work }
        }
    }
}
