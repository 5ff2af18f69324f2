import OxpeckerProtocol
import OxpeckerStore

/// The model of the conflicts page: each guarded field with concurrent values, the values side by side.
struct ConflictsPage {
    var title = "Conflicts"
    var csrf: String
    var notice: String?
    var problem: String?
    var conflicts: [Conflict]
    var none: Bool

    struct Conflict {
        let customer: String
        let name: String
        let customerHref: String
        let field: String
        let label: String
        let action: String
        let candidates: [Candidate]
    }

    struct Candidate {
        let shown: String
        let json: String
        let written: String
        let device: String
        let current: Bool
    }

    static func load(from reader: StoreReader, csrf: String) throws -> ConflictsPage {
        let conflicts = try reader.conflicts()
        var names: [CustomerID: String] = [:]
        for conflict in conflicts where names[conflict.customer] == nil {
            names[conflict.customer] = try reader.profile(of: conflict.customer).displayName
        }
        return ConflictsPage(
            csrf: csrf,
            conflicts: conflicts.map { conflict in
                Conflict(
                    customer: conflict.customer.rawValue, name: names[conflict.customer] ?? conflict.customer.rawValue,
                    customerHref: Links.customer(conflict.customer), field: conflict.field, label: DisplayText.words(conflict.field),
                    action: Links.customer(conflict.customer) + "/conflicts/" + Links.percentEncoded(conflict.field),
                    candidates: conflict.candidates.enumerated().map { index, candidate in
                        Candidate(
                            shown: DisplayText.value(candidate.value), json: candidate.value.canonicalText,
                            written: DisplayText.minute(Instant(millisecondsSince1970: candidate.hlc.wallMillis)),
                            device: candidate.hlc.replica.rawValue, current: index == conflict.candidates.count - 1)
                    })
            },
            none: conflicts.isEmpty)
    }
}
