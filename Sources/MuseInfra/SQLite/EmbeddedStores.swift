import Foundation
import MuseCore

/// The embedded default's stores: one SQLite file under the data directory, migrated on open.
public struct EmbeddedStores: Sendable {
    public let database: SQLiteDatabase
    public let tasks: SQLiteTaskStore
    /// The same tasks on the database's dispatch lane: what the scheduler and the workers' callbacks use.
    public let dispatch: SQLiteTaskStore
    public let models: SQLiteModelStore
    public let presets: SQLitePresetStore
    public let idempotency: SQLiteIdempotencyStore
    public let webhooks: SQLiteWebhookStore
    public let datasets: SQLiteDatasetStore
    public let jobs: SQLiteJobStore

    /// `notifier` hears of every task event (the `/events` streams' wake-up); `tracks` are the
    /// profile's own tables, migrated with the shared ones.
    public static func open(
        dataDir: String, pool: BlockingPool, settings: SQLiteSettings = SQLiteSettings(), notifier: (any TaskEventNotifier)? = nil,
        metrics: SQLiteMetrics? = nil, tracks: [SQLiteMigrationTrack] = []
    ) async throws -> EmbeddedStores {
        let database = try SQLiteDatabase(
            path: (dataDir as NSString).appendingPathComponent("muse.sqlite"), pool: pool, settings: settings, metrics: metrics
        )
        try await database.migrate(tracks: tracks)
        return EmbeddedStores(
            database: database, tasks: SQLiteTaskStore(database: database, notifier: notifier),
            dispatch: SQLiteTaskStore(database: database.dispatchLane, notifier: notifier), models: SQLiteModelStore(database: database),
            presets: SQLitePresetStore(database: database),
            idempotency: SQLiteIdempotencyStore(database: database), webhooks: SQLiteWebhookStore(database: database),
            datasets: SQLiteDatasetStore(database: database), jobs: SQLiteJobStore(database: database, notifier: notifier)
        )
    }
}

/// `/readyz` commits a one-row write: a database that answers reads but cannot commit (a full
/// disk, a lock held by another process) is not ready, and is again once a write commits.
public struct SQLiteReadiness: ReadinessCheck {
    let database: SQLiteDatabase
    public let name = "database"

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func isReady() async -> Bool {
        (try? await database.transaction { db in
            try db.execute("INSERT OR REPLACE INTO readiness (id, checked_at) VALUES (1, ?)", [.integer(Int64(Date().timeIntervalSince1970 * 1000))])
        }) != nil
    }
}
