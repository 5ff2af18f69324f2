import GRDB

/// Fixtures of earlier schema versions, made by code rather than kept as binary files:
/// a database written by today's code, projected onto the schema an earlier version
/// created. `migrate` builds the earlier schema in a new file; then every row of every
/// table that schema has is copied from `source`, column by column where both have the
/// column (a later version's columns and tables are left out, as that version never
/// wrote them). The full-text index is copied by rowid, as the documents it matches.
public enum SchemaProjection {
    public static func project(_ source: String, onto target: String, migrate: (DatabaseQueue) throws -> Void) throws {
        let queue = try DatabaseQueue(path: target)
        defer { try? queue.close() }
        try migrate(queue)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [source])
            try db.inTransaction {
                let tables = try String.fetchAll(
                    db,
                    sql: """
                        SELECT name FROM main.sqlite_master WHERE type = 'table'
                          AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' AND name NOT LIKE 'search_index_%'
                        """)
                for table in tables {
                    let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, 'main')", arguments: [table])
                    let sourceColumns = Set(try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, 'source')", arguments: [table]))
                    guard !sourceColumns.isEmpty else { continue }
                    let common = (table == "search_index" ? ["rowid"] : []) + columns.filter(sourceColumns.contains)
                    let list = common.map { "\"\($0)\"" }.joined(separator: ", ")
                    if table == "search_index" { try db.execute(sql: "DELETE FROM main.search_index") }
                    try db.execute(sql: "INSERT OR REPLACE INTO main.\"\(table)\" (\(list)) SELECT \(list) FROM source.\"\(table)\"")
                }
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE source")
        }
    }
}
