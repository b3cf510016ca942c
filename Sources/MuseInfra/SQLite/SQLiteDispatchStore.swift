import Foundation
import MuseCore
import MuseWorkerProtocol

/// `DispatchStore` on the same SQLite tasks table.
extension SQLiteTaskStore: DispatchStore {
    public func claimNext(
        workerID: String, abilities: Set<Ability>, preferredModels: [String], loadedAnywhere: Set<String>, agedBefore: Date, leaseUntil: Date,
        limit: Int
    ) async throws -> [Attempt] {
        let now = Date()
        // A worker with every generation ability takes any task: no filter, the plain index seeks.
        let only =
            Ability.generation.isSubset(of: abilities)
            ? "" : " AND ability IN (\(abilities.intersection(Ability.generation).map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")))"
        guard !abilities.isDisjoint(with: Ability.generation) else { return [] }
        return try await database.transaction { db in
            guard let head = try Self.nextQueued(db, only: only, preferredModels: preferredModels, loadedAnywhere: loadedAnywhere, agedBefore: agedBefore)
            else {
                return []
            }
            var ids = [head]
            if limit > 1, let key = try db.query("SELECT lane, batch_key FROM tasks WHERE id = ?", [.text(head)]).first, let batchKey = key.optionalText(1) {
                ids += try db.query(
                    "SELECT id FROM tasks WHERE status = 'queued' AND lane = ? AND batch_key = ? AND id != ? ORDER BY id LIMIT ?",
                    [.text(key.text(0)), .text(batchKey), .text(head), .integer(Int64(limit - 1))]
                ).map { $0.text(0) }
            }
            var attempts: [Attempt] = []
            for id in ids {
                guard let task = try db.query("SELECT \(Self.columns) FROM tasks WHERE id = ?", [.text(id)]).first.map(Self.decode),
                    let change = TaskTransition.claim(workerID: workerID, leaseUntil: leaseUntil).apply(to: task, now: now),
                    let attemptID = change.task.attemptID
                else { continue }
                try update(db, change, at: now)
                attempts.append(Attempt(id: attemptID, task: change.task, workerID: workerID))
            }
            return attempts
        }
    }

    /// The claim order, as a few index seeks instead of sorting the whole queue: online before
    /// offline; within a lane the oldest task if it has waited past `agedBefore` for a model no
    /// worker has loaded (nobody else would ever take it), else the oldest for a preferred model,
    /// else the oldest.
    private static func nextQueued(
        _ db: SQLiteConnection, only: String, preferredModels: [String], loadedAnywhere: Set<String>, agedBefore: Date
    ) throws -> String? {
        for lane in ["online", "offline"] {
            guard
                let oldest = try db.query(
                    "SELECT id, created_at, model FROM tasks WHERE status = 'queued' AND lane = ?\(only) ORDER BY id LIMIT 1", [.text(lane)]
                ).first
            else { continue }
            if preferredModels.isEmpty { return oldest.text(0) }
            if (oldest.date(1) ?? .distantFuture) < agedBefore, !loadedAnywhere.contains(oldest.text(2)) { return oldest.text(0) }
            var best: String?
            for model in preferredModels {
                if let id = try db.query(
                    "SELECT id FROM tasks WHERE status = 'queued' AND lane = ? AND model = ?\(only) ORDER BY id LIMIT 1", [.text(lane), .text(model)]
                ).first?.text(0), best.map({ id < $0 }) ?? true {
                    best = id
                }
            }
            return best ?? oldest.text(0)
        }
        return nil
    }

    public func apply(
        _ transition: TaskTransition, attemptID: String, check: (@Sendable (GenerationTask) throws -> Void)?
    ) async throws -> GenerationTask? {
        let now = Date()
        return try await database.transaction { db in
            guard let task = try db.query("SELECT \(Self.columns) FROM tasks WHERE attempt_id = ?", [.text(attemptID)]).first.map(Self.decode),
                let change = transition.apply(to: task, now: now)
            else { return nil }
            try check?(change.task)
            try update(db, change, at: now)
            return change.task
        }
    }

    public func attempts(workerID: String) async throws -> [String] {
        try await database.transaction { db in
            try db.query("SELECT attempt_id FROM tasks WHERE worker_id = ? AND status IN ('dispatched', 'running')", [.text(workerID)]).map { $0.text(0) }
        }
    }

    public func orphanedAttempts(liveWorkers: Set<String>?, now: Date) async throws -> [String] {
        var sql = "SELECT attempt_id FROM tasks WHERE status IN ('dispatched', 'running') AND (lease_expires_at < ?"
        var values: [SQLiteValue] = [now.sqliteMillis]
        if let live = liveWorkers {
            sql += live.isEmpty ? " OR 1)" : " OR worker_id NOT IN (\(live.map { _ in "?" }.joined(separator: ", "))))"
            values += live.map { .text($0) }
        } else {
            sql += ")"
        }
        return try await database.transaction { [sql, values] db in try db.query(sql, values).map { $0.text(0) } }
    }

    public func releaseScheduled(limit: Int) async throws -> Int {
        let now = Date()
        return try await database.transaction { db in
            let tasks = try db.query("SELECT \(Self.columns) FROM tasks WHERE status = 'scheduled' ORDER BY id LIMIT ?", [.integer(Int64(limit))])
                .map(Self.decode)
            for task in tasks {
                if let change = TaskTransition.release.apply(to: task, now: now) { try update(db, change, at: now) }
            }
            return tasks.count
        }
    }

    public func count(status: TaskStatus) async throws -> Int {
        try await database.transaction { db in
            try db.query("SELECT count(*) FROM tasks WHERE status = ?", [.text(status.rawValue)]).first?.int(0) ?? 0
        }
    }

    public func census() async throws -> (byStatus: [TaskStatus: Int], queuedByLane: [Priority: Int]) {
        try await database.transaction { db in
            var byStatus: [TaskStatus: Int] = [:]
            var byLane: [Priority: Int] = [:]
            for row in try db.query("SELECT status, lane, count(*) FROM tasks GROUP BY status, lane") {
                guard let status = TaskStatus(rawValue: row.text(0)) else { continue }
                byStatus[status, default: 0] += row.int(2)
                if status == .queued, let lane = Priority(rawValue: row.text(1)) { byLane[lane, default: 0] += row.int(2) }
            }
            return (byStatus, byLane)
        }
    }

    public func imageTenant(_ imageID: String) async throws -> String? {
        try await database.transaction { db in try db.query("SELECT tenant FROM images WHERE id = ?", [.text(imageID)]).first?.text(0) }
    }
}
