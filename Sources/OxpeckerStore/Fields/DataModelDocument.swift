import OxpeckerProtocol

/// `Protocol/data-model.md`: every field and record a change may carry, rendered
/// from ``FieldCatalog`` and ``RecordCatalog`` so that the document cannot drift
/// from the code (a test compares the committed file with ``render()``).
///
/// ```swift
/// let markdown = DataModelDocument.render()
/// try markdown.write(toFile: "Protocol/data-model.md", atomically: true, encoding: .utf8)
/// ```
public enum DataModelDocument {
    /// The data-model version this document describes: the `schema_version` of every change this build writes.
    public static var version: Int { Change.currentSchemaVersion }

    /// How to bring the committed document up to date.
    public static let regenerateCommand = "OXPECKER_REGENERATE_DOCS=1 swift test --filter DataModelDocumentTests"

    /// The whole document, in Markdown, ending with one newline.
    public static func render() -> String {
        var lines: [String] = []
        lines += header()
        lines += changes()
        lines += profileFields()
        lines += records()
        return lines.joined(separator: "\n") + "\n"
    }

    private static func header() -> [String] {
        [
            "# The Oxpecker data model, version \(version)",
            "",
            "<!-- Generated from FieldCatalog and RecordCatalog (Sources/OxpeckerStore/Fields/). Do not edit by hand:",
            "     \(regenerateCommand) -->",
            "",
            "What a change may say: its `entity`, `kind`, `field`, `record` and `value` for each part of a customer",
            "(the wire form of a change and of every value is in [README.md](README.md)). Lengths are in Unicode",
            "code points. A change that breaks these rules is well-formed JSON but refused in a push with",
            "`invalid_change`; a receiver never applies it.",
            "",
            "## `schema_version`",
            "",
            "Every change carries `schema_version`: the version of this data model (its fields, their merge kinds",
            "and value forms, its record entities and their members) that the replica which made the change",
            "followed. This document is version \(version), and every change written today carries \(version). It is",
            "not the protocol version (the `Oxpecker-Protocol` header, which versions messages), nor the version",
            "of a store's local database (its migrations). A receiver judges a change by its content, not by",
            "this number: in version \(version) no peer reads it beyond its form (an integer, 1 to 2147483647), so a",
            "change with another `schema_version` is accepted or refused like any other (a field this model",
            "does not declare is `invalid_change`). A later data model that changes what a field means gets a",
            "new number, and this document will say how its peers read changes of the older one.",
            "",
        ]
    }

    private static func changes() -> [String] {
        var lines = [
            "## Changes by entity",
            "",
            "| entity | `kind` | `field` | `record` | `value` |",
            "| --- | --- | --- | --- | --- |",
            "| `profile` | the field's, below | the field's name | omitted | the field's value (`null` clears it); for a set, `{\"element\": …, \"op\": \"add\" \\| \"remove\"}` |",
        ]
        for record in RecordCatalog.all {
            lines.append(
                "| `\(record.entity.rawValue)` | `\(record.kind.rawValue)` | \(record.field ?? "omitted") | \(record.record) | an object, below |")
        }
        lines += [
            "| `customer` | `erasure` | omitted | omitted | `{\"at\": instant, \"by\": who, \"reason\": token}`; made only by the server (an administrator's erasure), never pushed by a device |",
            "",
            "**Creating a customer.** There is no creation change: a customer exists from its first change,",
            "and the server takes a customer it has never seen only from a `profile` change of field `scopes`",
            "that adds it to one of the pushing device's scopes (`out_of_scope` otherwise). A store's",
            "`createCustomer(id, in: scopes)` (`oxpecker customer add ID --scope S`) writes one `scopes` add per",
            "scope, then `created_at`, in that order, and pushes them oldest first:",
            "",
            "```json",
            "{\"customer\": \"c-1001\", \"entity\": \"profile\", \"field\": \"scopes\", \"kind\": \"add_wins_set\", \"value\": {\"element\": \"branch:HN01\", \"op\": \"add\"}, …}",
            "{\"customer\": \"c-1001\", \"entity\": \"profile\", \"field\": \"created_at\", \"kind\": \"register\", \"value\": \"2026-11-24T15:31:50.123Z\", …}",
            "```",
            "",
            "A change's `kind` must be its field's or entity's (`invalid_change` otherwise). `observed` names the",
            "HLCs a change supersedes: for a set removal, the adds it removes; for a `guarded_register`, the",
            "value it overwrites; for a consent decision, the decisions it replaces.",
            "",
        ]
        return lines
    }

    private static func profileFields() -> [String] {
        var lines = [
            "## Profile fields",
            "",
            "Entity `profile`, `field` the name below. \"Typed as\" is the form a person types on the command line",
            "(`oxpecker customer set ID FIELD VALUE`; `oxpecker customer add-to ID SET ELEMENT…` and `remove-from`",
            "for sets); the store turns it into the value on the wire.",
            "",
        ]
        for section in FieldSection.allCases {
            let fields = FieldCatalog.all.filter { $0.section == section }
            guard !fields.isEmpty else { continue }
            lines += [
                "### \(section.rawValue)",
                "",
                "| field | `kind` | value on the wire | typed as | what |",
                "| --- | --- | --- | --- | --- |",
            ]
            for field in fields {
                lines.append(
                    "| `\(field.name)` | `\(field.kind.rawValue)` | \(cell(field.type.wireForm)) | \(cell(field.type.inputHint)) | \(cell(field.summary)) |")
            }
            lines.append("")
        }
        return lines
    }

    private static func records() -> [String] {
        var lines = [
            "## Records",
            "",
            "Every other entity appends records: `record` is required, `value` is an object with the members",
            "below. A required member must be there, and a required string must not be empty; an optional",
            "member is omitted (or `null`). Members not listed are accepted and kept in the change as it came,",
            "but no store reads them.",
            "",
        ]
        for record in RecordCatalog.all {
            lines += [
                "### `\(record.entity.rawValue)`",
                "",
                "\(capitalized(record.summary)). `kind`: `\(record.kind.rawValue)`; `field`: \(record.field ?? "omitted"); `record`: \(record.record).",
                "",
                "| member | | form | what |",
                "| --- | --- | --- | --- |",
            ]
            for member in record.members {
                lines.append(
                    "| `\(member.name)` | \(member.isRequired ? "required" : "optional") | \(cell(member.form.wireForm)) | \(cell(member.summary)) |")
            }
            lines.append("")
        }
        lines.removeLast()
        return lines
    }

    /// Text for a table cell: a `|` would end it.
    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }

    private static func capitalized(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst()
    }
}
