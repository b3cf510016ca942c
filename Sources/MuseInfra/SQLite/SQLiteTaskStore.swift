import Foundation
import MuseCore
import MuseWorkerProtocol

/// `TaskStore` on the embedded default's SQLite file.
public struct SQLiteTaskStore: TaskStore {
    let database: SQLiteDatabase
    /// Told of every appended task event (wakes `/events` streams).
    let notifier: (any TaskEventNotifier)?

    public init(database: SQLiteDatabase, notifier: (any TaskEventNotifier)? = nil) {
        self.database = database
        self.notifier = notifier
    }

    static let columns =
        "id, tenant, status, progress, params, images, error, attempts, created_at, started_at, finished_at, attempt_id, worker_id, preset_id, preset_version, lease_expires_at"

    public func insert(_ task: GenerationTask, idempotencyKey: String?) async throws -> Int? {
        let values: [SQLiteValue] = [
            .text(task.id), .text(task.tenant), .text(task.status.rawValue), .text(task.lane.rawValue), .real(task.progress),
            try SQLiteJSON.encode(task.params), try SQLiteJSON.encode(task.images), try task.error.map(SQLiteJSON.encode) ?? .null,
            .integer(Int64(task.attempts)), task.createdAt.sqliteMillis, task.startedAt.sqliteMillis, task.finishedAt.sqliteMillis,
            .text(task.params.model), task.params.batchKey.map { .text($0) } ?? .null,
            task.preset.map { .text($0.id) } ?? .null, task.preset.map { .integer(Int64($0.version)) } ?? .null,
            .text(task.params.ability.rawValue),
        ]
        return try await database.transaction { db in
            // The new task is the newest: everything queued in its lane (and, for offline work, all
            // online work) is ahead of it. Read from the trigger-kept counts, before the insert.
            var ahead: Int?
            if task.status == .queued {
                let counts = Dictionary(uniqueKeysWithValues: try db.query("SELECT lane, n FROM queue_counts").map { ($0.text(0), $0.int(1)) })
                ahead = task.lane == .online ? counts["online", default: 0] : counts["online", default: 0] + counts["offline", default: 0]
            }
            try db.execute(
                "INSERT INTO tasks (id, tenant, status, lane, progress, params, images, error, attempts, created_at, started_at, finished_at, model, batch_key, preset_id, preset_version, ability) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values
            )
            try record(db, TaskChange(from: nil, to: task, now: task.createdAt), at: task.createdAt)
            if let idempotencyKey {
                try db.execute(
                    "UPDATE idempotency_keys SET task_id = ? WHERE tenant = ? AND key = ?", [.text(task.id), .text(task.tenant), .text(idempotencyKey)]
                )
            }
            return ahead
        }
    }

    public func task(id: String, tenant: String) async throws -> GenerationTask? {
        try await database.transaction { db in
            try db.query("SELECT \(Self.columns) FROM tasks WHERE id = ? AND tenant = ?", [.text(id), .text(tenant)]).first.map(Self.decode)
        }
    }

    public func list(tenant: String, status: TaskStatus?, limit: Int, before: String?) async throws -> [GenerationTask] {
        var sql = "SELECT \(Self.columns) FROM tasks WHERE tenant = ?"
        var values: [SQLiteValue] = [.text(tenant)]
        if let status {
            sql += " AND status = ?"
            values.append(.text(status.rawValue))
        }
        if let before {
            sql += " AND id < ?"
            values.append(.text(before))
        }
        sql += " ORDER BY id DESC LIMIT ?"
        values.append(.integer(Int64(limit)))
        let query = sql
        let parameters = values
        return try await database.transaction { db in try db.query(query, parameters).map(Self.decode) }
    }

    public func apply(_ transition: TaskTransition, taskID: String, tenant: String) async throws -> GenerationTask? {
        let now = Date()
        return try await database.transaction { db in
            guard
                let task = try db.query("SELECT \(Self.columns) FROM tasks WHERE id = ? AND tenant = ?", [.text(taskID), .text(tenant)]).first.map(Self.decode),
                let change = transition.apply(to: task, now: now)
            else { return nil }
            try update(db, change, at: now)
            return change.task
        }
    }

    public func tasksAhead(of tasks: [GenerationTask]) async throws -> [String: Int] {
        let queued = tasks.filter { $0.status == .queued }
        guard !queued.isEmpty else { return [:] }
        return try await database.transaction { db in
            var ahead: [String: Int] = [:]
            for task in queued { ahead[task.id] = try db.query(Self.aheadQuery(task.lane), [.text(task.id)]).first?.int(0) ?? 0 }
            return ahead
        }
    }

    /// Queued tasks served before the one with the bound id: online before offline, then oldest first.
    private static func aheadQuery(_ lane: Priority) -> String {
        switch lane {
        case .online: "SELECT count(*) FROM tasks WHERE status = 'queued' AND lane = 'online' AND id < ?"
        case .offline: "SELECT count(*) FROM tasks WHERE status = 'queued' AND (lane = 'online' OR id < ?)"
        }
    }

    static func decode(_ row: [SQLiteValue]) throws -> GenerationTask {
        var task = GenerationTask(
            id: row.text(0), tenant: row.text(1), params: try SQLiteJSON.decode(GenerationParams.self, row.text(4)),
            createdAt: row.date(8) ?? Date(timeIntervalSince1970: 0)
        )
        task.status = TaskStatus(rawValue: row.text(2)) ?? .failed
        task.progress = row.double(3)
        task.images = try SQLiteJSON.decode([TaskImage].self, row.text(5))
        task.error = try row.optionalText(6).map { try SQLiteJSON.decode(TaskError.self, $0) }
        task.attempts = row.int(7)
        task.startedAt = row.date(9)
        task.finishedAt = row.date(10)
        task.attemptID = row.optionalText(11)
        task.workerID = row.optionalText(12)
        if let presetID = row.optionalText(13) { task.preset = PresetRef(id: presetID, version: row.int(14)) }
        task.leaseExpiresAt = row.date(15)
        return task
    }
}
