import Foundation
import MuseCore

/// The embedded default's database file: one connection, migrations, and transactions,
/// committed in groups on the blocking pool (never on an event loop).
public final class SQLiteDatabase: Sendable {
    private let writer: SQLiteGroupCommit
    private let lane: SQLiteGroupCommit.Lane

    public init(path: String, pool: BlockingPool, settings: SQLiteSettings = SQLiteSettings(), metrics: SQLiteMetrics? = nil) throws {
        try PrivateFiles.directory((path as NSString).deletingLastPathComponent)
        let connection = try SQLiteConnection(path: path, settings: settings)
        // SQLite gives the -wal and -shm files the database file's permissions.
        for file in [path, path + "-wal", path + "-shm"] { try PrivateFiles.restrict(file) }
        writer = SQLiteGroupCommit(connection: connection, pool: pool, metrics: metrics)
        lane = .client
    }

    private init(writer: SQLiteGroupCommit, lane: SQLiteGroupCommit.Lane) {
        self.writer = writer
        self.lane = lane
    }

    /// The same file, whose transactions go at the head of every group: for the scheduler and
    /// the workers' callbacks, so that claims and results never wait behind a burst of submits.
    public var dispatchLane: SQLiteDatabase {
        SQLiteDatabase(writer: writer, lane: .dispatch)
    }

    /// Runs `body` as one transaction; a throw undoes its work. Returns once its group has committed.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Outcome<T>()
            let job = SQLiteGroupCommit.Job(
                lane: lane,
                run: { outcome.value = try body($0) },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(returning: outcome.value!)
                    }
                }
            )
            writer.enqueue(job)
        }
    }

    /// A transaction's result, from `run` to `finish` (both on the group's thread, one after the other).
    private final class Outcome<T: Sendable>: @unchecked Sendable {
        var value: T?
    }

    /// Brings the shared schema, then each of `tracks`, to its newest version, in one
    /// transaction; returns the shared versions applied. A database newer than this binary, or
    /// with a version that is not one, is refused as it is: never lowered, never migrated twice.
    @discardableResult
    public func migrate(tracks: [SQLiteMigrationTrack] = []) async throws -> [Int] {
        try await transaction { connection in
            let known = SQLiteMigrations.all.count
            let current = try Self.version(connection.query("PRAGMA user_version").first?.first, of: "the shared schema", known: known)
            var applied: [Int] = []
            for (index, sql) in SQLiteMigrations.all.enumerated() where index + 1 > current {
                try connection.executeScript(sql)
                applied.append(index + 1)
            }
            if current < known { try connection.execute("PRAGMA user_version = \(known)") }
            guard !tracks.isEmpty else { return applied }
            // Also where an older binary dropped or never made it while the version says 9.
            try connection.execute("CREATE TABLE IF NOT EXISTS schema_tracks (name TEXT PRIMARY KEY, version INTEGER NOT NULL)")
            for track in tracks {
                let stored = try connection.query("SELECT version FROM schema_tracks WHERE name = ?", [.text(track.name)]).first?.first
                let version = try Self.version(stored ?? .integer(0), of: "track \"\(track.name)\"", known: track.steps.count)
                guard version < track.steps.count else { continue }
                for sql in track.steps.dropFirst(version) { try connection.executeScript(sql) }
                try connection.execute(
                    "INSERT INTO schema_tracks (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                    [.text(track.name), .integer(Int64(track.steps.count))])
            }
            return applied
        }
    }

    /// A stored schema version, checked: an integer from 0 to what this binary knows.
    private static func version(_ value: SQLiteValue?, of schema: String, known: Int) throws -> Int {
        guard case .integer(let version)? = value, version >= 0 else {
            throw SQLiteMigrationError("the database's version of \(schema) is \(value.map { "\($0)" } ?? "missing"), not a schema version")
        }
        guard version <= known else {
            throw SQLiteMigrationError(
                "the database's version of \(schema) is \(version), newer than this binary's \(known): run the newer binary, or restore a backup")
        }
        return Int(version)
    }
}
