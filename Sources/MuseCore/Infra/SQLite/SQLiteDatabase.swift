import Foundation
import Synchronization

/// The embedded default's database file: one connection, migrations, and transactions run on
/// the blocking pool, never on an event loop.
public final class SQLiteDatabase: Sendable {
    private let connection: SQLiteConnection
    private let pool: BlockingPool
    // One transaction at a time on the one connection; SQLite serializes writers anyway.
    private let exclusive = Mutex<Void>(())

    public init(path: String, pool: BlockingPool) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        connection = try SQLiteConnection(path: path)
        self.pool = pool
    }

    /// Runs `body` in one transaction on the blocking pool; any throw rolls it back.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await pool.run { [self] in
            try exclusive.withLock { _ in
                try connection.execute("BEGIN IMMEDIATE")
                do {
                    let result = try body(connection)
                    try connection.execute("COMMIT")
                    return result
                } catch {
                    _ = try? connection.execute("ROLLBACK")
                    throw error
                }
            }
        }
    }

    /// Brings the schema to the newest version; returns the versions applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await transaction { connection in
            guard case .integer(let current)? = try connection.query("PRAGMA user_version").first?.first else { return [] }
            var applied: [Int] = []
            for (index, sql) in SQLiteMigrations.all.enumerated() where index + 1 > current {
                try connection.executeScript(sql)
                applied.append(index + 1)
            }
            try connection.execute("PRAGMA user_version = \(SQLiteMigrations.all.count)")
            return applied
        }
    }
}
