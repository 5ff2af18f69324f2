import ArgumentParser
import Foundation
import OxpeckerProtocol
import OxpeckerStore

/// The `--rules` option the customer-context commands share.
struct RulesOption: ParsableArguments {
    /// The environment variable naming a rules file when `--rules` is not given.
    static let rulesVariable = "OXPECKER_RULES"

    @Option(
        help: ArgumentHelp(
            "A JSON file of context rules overriding the built-in ones (default: $\(RulesOption.rulesVariable); `oxpecker rules` prints them).",
            valueName: "file"))
    var rules: String?

    /// The rules in force: the built-in ones, overridden by the rules file if one is named.
    func loadRules() throws -> ContextRules {
        let path = rules ?? ProcessInfo.processInfo.environment[Self.rulesVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let path else { return .standard }
        return try ContextRules.standard.overriding(withFileAt: path)
    }

    /// The time given to `--at`, else now.
    static func time(_ at: String?) throws -> Instant {
        try at.map { try InputParsing.instant($0, option: "--at") } ?? Instant(millisecondsSince1970: WallClock.system.now())
    }
}
