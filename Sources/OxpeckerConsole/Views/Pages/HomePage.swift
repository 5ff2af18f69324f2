import Foundation
import OxpeckerProtocol
import OxpeckerStore

/// The model of the start page.
struct HomePage {
    var title = "Customers"
    var query = ""
    var searched = false
    var noHits = false
    var hits: [Hit] = []
    var customers: [Row] = []
    var noCustomers = false
    var more = false
    var shown = 0

    /// One search hit: the customer, where the words were found, the snippet with the matches marked.
    struct Hit {
        let customer: String
        let name: String
        let href: String
        let source: String
        let parts: [SnippetPart]
    }

    /// One customer of the list.
    struct Row {
        let customer: String
        let name: String
        let href: String
        let stage: String
        let advisor: String
    }

    /// How many customers the start page lists.
    static let listLimit = 200

    /// Searches the store (the CLI's `oxpecker search`), or lists its first customers.
    static func load(query: String?, from reader: StoreReader) throws -> HomePage {
        var page = HomePage()
        if let query = query?.trimmingCharacters(in: .whitespacesAndNewlines), !query.isEmpty {
            page.title = "Search: \(query)"
            page.query = query
            page.searched = true
            let hits = try reader.search(query, limit: 50)
            var names: [CustomerID: String] = [:]
            for hit in hits where names[hit.customer] == nil {
                names[hit.customer] = (try? reader.profile(of: hit.customer).displayName) ?? hit.customer.rawValue
            }
            page.hits = hits.map { hit in
                Hit(
                    customer: hit.customer.rawValue, name: names[hit.customer] ?? hit.customer.rawValue,
                    href: Links.customer(hit.customer) + (hit.note.map { "#note-\($0.rawValue)" } ?? ""),
                    source: hit.note == nil ? "name" : "note", parts: SnippetPart.parts(of: hit.snippet))
            }
            page.noHits = hits.isEmpty
        } else {
            let rows = try reader.customers(matching: CustomerFilter(limit: listLimit + 1))
            page.more = rows.count > listLimit
            page.customers = rows.prefix(listLimit).map { row in
                Row(
                    customer: row.id.rawValue, name: row.preferredName ?? row.legalName ?? row.id.rawValue, href: Links.customer(row.id),
                    stage: row.stage ?? "", advisor: row.advisor ?? "")
            }
            page.shown = page.customers.count
            page.noCustomers = rows.isEmpty
        }
        return page
    }
}

/// A piece of a search snippet; the store marks the matching words with `[` and `]`.
struct SnippetPart {
    let text: String
    let marked: Bool

    static func parts(of snippet: String) -> [SnippetPart] {
        var parts: [SnippetPart] = []
        var current = ""
        var marked = false
        for character in snippet {
            if character == "[" && !marked || character == "]" && marked {
                if !current.isEmpty { parts.append(SnippetPart(text: current, marked: marked)) }
                current = ""
                marked.toggle()
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { parts.append(SnippetPart(text: current, marked: marked)) }
        return parts
    }
}

/// The console's addresses, built in one place.
enum Links {
    static func customer(_ id: CustomerID) -> String { "/customers/\(percentEncoded(id.rawValue))" }

    /// Ids are `A-Z a-z 0-9 . _ : -`; `:` is kept as is in a path segment.
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", "?", "#"])) ?? text
    }
}
