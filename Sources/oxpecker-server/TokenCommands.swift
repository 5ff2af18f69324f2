import ArgumentParser
import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore

/// `oxpecker-server token create|list|revoke`: device tokens.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make, list and revoke device tokens, and change their scopes.",
        subcommands: [Create.self, List.self, Revoke.self, SetScopes.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a device token; prints the secret once, on the first line of stdout.",
            discussion: "The secret is stored only as a SHA-256 hash: it cannot be shown again. Give it to the device (OXPECKER_TOKEN).")
        @OptionGroup var data: DataOptions
        @Option(help: "The device's name, for people and logs.") var name: String
        @Option(help: "A scope the device may see (repeat for several), like branch:HN01.") var scope: [String] = []
        @OptionGroup var expiry: ExpiryOptions

        func validate() throws {
            try TokenName.validate(name)
            for scope in scope where !ScopeRule.accepts(scope) {
                throw ValidationError("invalid scope '\(scope)': use kind:id, like branch:HN01")
            }
        }

        func run() async throws {
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            let expiresAt = try expiry.expiry(after: now)
            let storage = try await data.openStorage()
            let token = try await storage.createToken(.device, name: name, scopes: scope, expiresAt: expiresAt, now: now)
            print(token.secret)
            TokenReport.created(token, name: name, scopes: scope, expiresAt: expiresAt)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List device tokens (never their secrets).")
        @OptionGroup var data: DataOptions
        @OptionGroup var actor: AuditActor

        func run() async throws {
            TokenReport.list(try await data.openStorage().listTokens(.device, by: actor.by, at: AuditActor.now))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token; it fails from its holder's next request on.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The token's id, as `token list` shows it.") var id: String

        func run() async throws {
            try await TokenReport.revoke(id, in: data)
        }
    }
}

/// `oxpecker-server admin-token create|list|revoke`: administrators' tokens, for `/v1/admin/…`.
struct AdminToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin-token",
        abstract: "Make, list and revoke admin tokens (for the /v1/admin endpoints; they cannot sync).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an admin token; prints the secret once, on the first line of stdout.",
            discussion: "The secret is stored only as a SHA-256 hash. Admin tokens are kept apart from device tokens: neither works in the other's place.")
        @OptionGroup var data: DataOptions
        @Option(help: "Who or what holds it, like ops-oncall; recorded with what it does.") var name: String
        @OptionGroup var expiry: ExpiryOptions

        func validate() throws {
            try TokenName.validate(name)
        }

        func run() async throws {
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            let expiresAt = try expiry.expiry(after: now)
            let storage = try await data.openStorage()
            let token = try await storage.createToken(.admin, name: name, scopes: [], expiresAt: expiresAt, now: now)
            print(token.secret)
            TokenReport.created(token, name: name, scopes: nil, expiresAt: expiresAt)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List admin tokens (never their secrets).")
        @OptionGroup var data: DataOptions
        @OptionGroup var actor: AuditActor

        func run() async throws {
            TokenReport.list(try await data.openStorage().listTokens(.admin, by: actor.by, at: AuditActor.now))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an admin token; it fails from the next request on.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The token's id, as `admin-token list` shows it.") var id: String

        func run() async throws {
            try await TokenReport.revoke(id, in: data)
        }
    }
}

/// When a token expires: `--expires-in 30d` or `--expires-at 2027-01-31`, or never.
struct ExpiryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Expire after this long: a number and m, h, d or w, like 90m, 12h, 30d.", valueName: "duration"))
    var expiresIn: String?
    @Option(help: ArgumentHelp("Expire at this instant (2027-01-31T17:00:00.000Z) or at the start of this UTC day (2027-01-31).", valueName: "time"))
    var expiresAt: String?

    func validate() throws {
        if expiresIn != nil, expiresAt != nil { throw ValidationError("give --expires-in or --expires-at, not both") }
        if let expiresIn, Self.milliseconds(in: expiresIn) == nil {
            throw ValidationError("--expires-in '\(expiresIn)': use a positive number and m, h, d or w, like 30d")
        }
    }

    /// The expiry these options ask for, counted from `now`; nil for never.
    func expiry(after now: Instant) throws -> Instant? {
        if let expiresIn, let milliseconds = Self.milliseconds(in: expiresIn) {
            return Instant(millisecondsSince1970: now.millisecondsSince1970 + milliseconds)
        }
        guard let expiresAt else { return nil }
        let instant: Instant
        if let exact = try? Instant(parsing: expiresAt) {
            instant = exact
        } else if let day = try? LocalDate(parsing: expiresAt) {
            instant = Instant(millisecondsSince1970: Int64(day.daysSince1970) * 86_400_000)
        } else {
            throw ValidationError("--expires-at '\(expiresAt)': use 2027-01-31 or 2027-01-31T17:00:00.000Z")
        }
        guard instant > now else { throw ValidationError("--expires-at \(instant) is not in the future") }
        return instant
    }

    /// `30d` → 30 days in milliseconds; nil if malformed, zero or beyond 100 years.
    static func milliseconds(in text: String) -> Int64? {
        guard let unit = text.last, let count = Int64(text.dropLast()), count > 0 else { return nil }
        let unitMillis: Int64
        switch unit {
        case "m": unitMillis = 60_000
        case "h": unitMillis = 3_600_000
        case "d": unitMillis = 86_400_000
        case "w": unitMillis = 7 * 86_400_000
        default: return nil
        }
        guard count <= 36_500 * 86_400_000 / unitMillis else { return nil }
        return count * unitMillis
    }
}

/// What the token commands print: the secret alone on stdout (for `> file`), the rest on stderr.
enum TokenReport {
    static func created(_ token: IssuedToken, name: String, scopes: [String]?, expiresAt: Instant?) {
        var line = "created \(token.id) for '\(name)'"
        if let scopes { line += ", scopes: " + (scopes.isEmpty ? "none" : scopes.joined(separator: ",")) }
        line += ", " + (expiresAt.map { "expires \($0)" } ?? "never expires")
        line += "; the secret above is shown only once and stored only as a hash\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func list(_ tokens: [TokenRecord]) {
        let now = Instant(millisecondsSince1970: WallClock.system.now())
        for token in tokens {
            let state =
                token.revokedAt.map { "revoked \($0)" }
                ?? token.expiresAt.map { token.isExpired(at: now) ? "expired \($0)" : "active, expires \($0)" } ?? "active"
            var line = "\(token.id)  \(token.name)"
            if token.kind == .device { line += "  scopes: " + (token.scopes.isEmpty ? "none" : token.scopes.joined(separator: ",")) }
            print(line + "  created \(token.createdAt)  \(state)")
        }
    }

    static func revoke(_ id: String, in data: DataOptions) async throws {
        guard try await data.openStorage().revokeToken(id: id, at: Instant(millisecondsSince1970: WallClock.system.now())) else {
            FileHandle.standardError.write(Data("error: no active token '\(id)'\n".utf8))
            throw ExitCode(3)
        }
        print("revoked \(id); it is refused from its next request on")
    }
}

/// A token's name: for people and logs.
enum TokenName {
    static func validate(_ name: String) throws {
        guard !name.isEmpty, name.count <= 200, !name.contains(where: \.isNewline) else {
            throw ValidationError("--name must be 1 to 200 characters on one line")
        }
    }
}
