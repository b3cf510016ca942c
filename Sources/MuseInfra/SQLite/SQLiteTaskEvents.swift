import Foundation
import MuseCore
import MuseWorkerProtocol

/// The task event log on the tasks' SQLite file. Each event keeps the fields that change over a
/// task's life; the rest (params, owner, creation) is read from the task itself.
extension SQLiteTaskStore: TaskEventStore {
    struct EventState: Codable {
        var status: TaskStatus
        var progress: Double
        var attempts: Int
        var images: [TaskImage]
        var error: TaskError?
        var startedAt: Int64?
        var finishedAt: Int64?

        enum CodingKeys: String, CodingKey {
            case status, progress, attempts, images, error
            case startedAt = "started_at"
            case finishedAt = "finished_at"
        }
    }

    /// The task's columns, qualified for the join with its events.
    private static let taskColumns = columns.split(separator: ",").map { "t." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")

    public func events(taskID: String, after seq: Int64, limit: Int) async throws -> [TaskEvent] {
        try await database.transaction { db in
            try db.query(
                """
                SELECT e.seq, e.type, e.state, \(Self.taskColumns)
                FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE e.task_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?
                """,
                [.text(taskID), .integer(seq), .integer(Int64(limit))]
            ).map { row in
                var task = try Self.decode(Array(row.dropFirst(3)))
                let state = try SQLiteJSON.decode(EventState.self, row.text(2))
                task.status = state.status
                task.progress = state.progress
                task.attempts = state.attempts
                task.images = state.images
                task.error = state.error
                task.startedAt = state.startedAt.map { Date(timeIntervalSince1970: Double($0) / 1000) }
                task.finishedAt = state.finishedAt.map { Date(timeIntervalSince1970: Double($0) / 1000) }
                return TaskEvent(seq: Int64(row.int(0)), type: row.text(1), task: task)
            }
        }
    }

    /// Writes what a change produced besides the task's row: its new images, its event (and
    /// wakes the task's streams), its webhook delivery. Runs inside the change's transaction; a
    /// woken stream's read waits for the commit on the one connection.
    func record(_ db: SQLiteConnection, _ change: TaskChange, at now: Date) throws {
        let task = change.task
        for image in change.newImages {
            try db.execute(
                "INSERT OR IGNORE INTO images (id, task_id, tenant, width, height, seed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(image.id), .text(task.id), .text(task.tenant), .integer(Int64(image.width)), .integer(Int64(image.height)), .integer(image.seed),
                    now.sqliteMillis,
                ]
            )
        }
        guard let type = change.event else { return }
        let state = EventState(
            status: task.status, progress: task.progress, attempts: task.attempts, images: task.images, error: task.error,
            startedAt: task.startedAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) },
            finishedAt: task.finishedAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
        )
        try db.execute(
            "INSERT INTO task_events (task_id, type, state, created_at) VALUES (?, ?, ?, ?)",
            [.text(task.id), .text(type), try SQLiteJSON.encode(state), now.sqliteMillis]
        )
        notifier?.notify(taskID: task.id)
        if let delivery = change.delivery { try SQLiteWebhookStore.insert(delivery, db) }
    }

    /// Writes a change to an existing task: its row, then what `record` writes.
    func update(_ db: SQLiteConnection, _ change: TaskChange, at now: Date) throws {
        let task = change.task
        try db.execute(
            """
            UPDATE tasks SET status = ?, progress = ?, images = ?, error = ?, attempts = ?, started_at = ?, finished_at = ?, attempt_id = ?,
              worker_id = ?, lease_expires_at = ?, worker_timings = coalesce(?, worker_timings) WHERE id = ?
            """,
            [
                .text(task.status.rawValue), .real(task.progress), try SQLiteJSON.encode(task.images), try task.error.map(SQLiteJSON.encode) ?? .null,
                .integer(Int64(task.attempts)), task.startedAt.sqliteMillis, task.finishedAt.sqliteMillis, task.attemptID.map { .text($0) } ?? .null,
                task.workerID.map { .text($0) } ?? .null, task.leaseExpiresAt.sqliteMillis, try change.timings.map(SQLiteJSON.encode) ?? .null,
                .text(task.id),
            ]
        )
        try record(db, change, at: now)
    }
}
