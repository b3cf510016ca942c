import Foundation
import MuseCore
import MuseJSON
import MuseWorkerProtocol

/// `JobStore` on the embedded default's SQLite file. A job's change and its event commit together;
/// the notifier wakes the job's streams after the commit.
public struct SQLiteJobStore: JobStore {
    let database: SQLiteDatabase
    let notifier: (any TaskEventNotifier)?

    public init(database: SQLiteDatabase, notifier: (any TaskEventNotifier)? = nil) {
        self.database = database
        self.notifier = notifier
    }

    static let columns = """
        id, tenant, kind, status, dataset_id, params, resources, progress, step, total_steps, loss, attempt_id, worker_id, attempts, \
        checkpoint_step, checkpoint_key, output_model_key, error, created_at, started_at, finished_at
        """

    public func create(_ job: TrainingJob) async throws {
        let params = String(decoding: try JSON.encode(job.params), as: UTF8.self)
        try await database.transaction { db in
            try db.execute(
                "INSERT INTO jobs (id, tenant, kind, status, dataset_id, params, resources, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(job.id), .text(job.tenant), .text(job.kind.rawValue), .text(job.status.rawValue), .text(job.datasetID), .text(params),
                    .text(job.resources.rawValue), job.createdAt.sqliteMillis,
                ])
            for owner in job.owners.sorted() {
                try db.execute("INSERT INTO job_owners (job_id, owner) VALUES (?, ?)", [.text(job.id), .text(owner)])
            }
            if let url = job.webhookURL {
                try db.execute("INSERT INTO job_webhooks (job_id, url) VALUES (?, ?)", [.text(job.id), .text(url)])
            }
            try Self.appendEvent(db, job, type: "status", at: job.createdAt)
        }
        notifier?.notify(taskID: job.id)
    }

    public func job(id: String, tenant: String) async throws -> TrainingJob? {
        try await database.transaction { db in try Self.read(db, "id = ? AND tenant = ?", [.text(id), .text(tenant)]) }
    }

    public func job(attemptID: String) async throws -> TrainingJob? {
        try await database.transaction { db in try Self.read(db, "attempt_id = ?", [.text(attemptID)]) }
    }

    public func job(id: String) async throws -> TrainingJob? {
        try await database.transaction { db in try Self.read(db, "id = ?", [.text(id)]) }
    }

    public func job(outputModelKey: String) async throws -> TrainingJob? {
        try await database.transaction { db in try Self.read(db, "output_model_key = ? AND status = 'succeeded'", [.text(outputModelKey)]) }
    }

    public func unfinished(tenant: String) async throws -> Int {
        try await database.transaction { db in
            try db.query("SELECT count(*) FROM jobs WHERE tenant = ? AND status IN ('queued', 'dispatched', 'running')", [.text(tenant)]).first?.int(0) ?? 0
        }
    }

    public func usesDataset(_ datasetID: String) async throws -> Bool {
        try await database.transaction { db in
            try !db.query("SELECT 1 FROM jobs WHERE dataset_id = ? AND status IN ('queued', 'dispatched', 'running') LIMIT 1", [.text(datasetID)]).isEmpty
        }
    }

    public func list(tenant: String, kinds: Set<JobKind>, limit: Int, before: String?) async throws -> [TrainingJob] {
        let kinds = kinds.map(\.rawValue).sorted()
        return try await database.transaction { db in
            var sql = "SELECT \(Self.columns) FROM jobs WHERE tenant = ? AND kind IN (\(kinds.map { _ in "?" }.joined(separator: ", ")))"
            var values: [SQLiteValue] = [.text(tenant)] + kinds.map(SQLiteValue.text)
            if let before {
                sql += " AND id < ?"
                values.append(.text(before))
            }
            values.append(.integer(Int64(limit)))
            return try db.query(sql + " ORDER BY id DESC LIMIT ?", values).compactMap(Self.decode)
        }
    }

    public func claim(kinds: Set<JobKind>, workerID: String, reservedFor: Set<String>, attemptID: String, at: Date) async throws -> TrainingJob? {
        let kinds = kinds.map(\.rawValue).sorted()
        guard !kinds.isEmpty else { return nil }
        let owners = reservedFor.sorted()
        let claimed = try await database.transaction { db -> TrainingJob? in
            let kindMarks = kinds.map { _ in "?" }.joined(separator: ", ")
            let row: [SQLiteValue]?
            if owners.isEmpty {
                row = try db.query(
                    "SELECT id FROM jobs WHERE status = 'queued' AND resources = 'shared' AND kind IN (\(kindMarks)) ORDER BY id LIMIT 1",
                    kinds.map(SQLiteValue.text)
                ).first
            } else {
                row = try db.query(
                    """
                    SELECT id FROM jobs WHERE status = 'queued' AND resources = 'private' AND kind IN (\(kindMarks))
                    AND id IN (SELECT job_id FROM job_owners WHERE owner IN (\(owners.map { _ in "?" }.joined(separator: ", ")))) ORDER BY id LIMIT 1
                    """,
                    kinds.map(SQLiteValue.text) + owners.map(SQLiteValue.text)
                ).first
            }
            guard let id = row?.text(0) else { return nil }
            try db.execute(
                "UPDATE jobs SET status = 'dispatched', attempt_id = ?, worker_id = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?) WHERE id = ?",
                [.text(attemptID), .text(workerID), at.sqliteMillis, .text(id)])
            let job = try Self.read(db, "id = ?", [.text(id)])
            if let job { try Self.appendEvent(db, job, type: "status", at: at) }
            return job
        }
        if let claimed { notifier?.notify(taskID: claimed.id) }
        return claimed
    }

    public func unclaim(attemptID: String) async throws -> TrainingJob? {
        try await change(attemptID: attemptID, from: ["dispatched"], event: "status", at: Date()) { db, id in
            try db.execute(
                "UPDATE jobs SET status = 'queued', attempt_id = NULL, worker_id = NULL, attempts = attempts - 1 WHERE id = ?", [.text(id)])
        }
    }

    public func progress(attemptID: String, progress: Double, step: Int?, totalSteps: Int?, loss: Double?, at: Date) async throws -> TrainingJob? {
        try await change(attemptID: attemptID, from: ["dispatched", "running"], event: "progress", at: at) { db, id in
            try db.execute(
                """
                UPDATE jobs SET status = 'running', progress = MAX(progress, ?), total_steps = COALESCE(?, total_steps),
                loss = CASE WHEN ? >= COALESCE(step, 0) THEN COALESCE(?, loss) ELSE loss END,
                step = CASE WHEN ? IS NULL THEN step ELSE MAX(COALESCE(step, 0), ?) END WHERE id = ?
                """,
                [
                    .real(progress), totalSteps.map { .integer(Int64($0)) } ?? .null, .integer(Int64(step ?? Int.max)), loss.map(SQLiteValue.real) ?? .null,
                    step.map { .integer(Int64($0)) } ?? .null, step.map { .integer(Int64($0)) } ?? .null, .text(id),
                ])
        }
    }

    public func saveCheckpoint(attemptID: String, _ checkpoint: JobCheckpoint) async throws -> (saved: Bool, replaced: JobCheckpoint?) {
        try await database.transaction { db in
            guard let job = try Self.read(db, "attempt_id = ? AND status IN ('dispatched', 'running')", [.text(attemptID)]) else { return (false, nil) }
            try db.execute(
                "UPDATE jobs SET checkpoint_step = ?, checkpoint_key = ? WHERE id = ?",
                [.integer(Int64(checkpoint.step)), .text(checkpoint.blobKey), .text(job.id)])
            return (true, job.checkpoint)
        }
    }

    public func finish(attemptID: String, status: JobStatus, outputModelKey: String?, error: TaskError?, at: Date) async throws -> TrainingJob? {
        let errorText = try error.map { String(decoding: try JSON.encode($0), as: UTF8.self) }
        return try await change(attemptID: attemptID, from: ["dispatched", "running"], event: "status", at: at) { db, id in
            try db.execute(
                """
                UPDATE jobs SET status = ?, output_model_key = ?, error = ?, finished_at = ?,
                progress = CASE WHEN ? = 'succeeded' THEN 1 ELSE progress END WHERE id = ?
                """,
                [
                    .text(status.rawValue), outputModelKey.map(SQLiteValue.text) ?? .null, errorText.map(SQLiteValue.text) ?? .null, at.sqliteMillis,
                    .text(status.rawValue), .text(id),
                ])
        }
    }

    public func requeue(attemptID: String, maxAttempts: Int, error: TaskError, at: Date) async throws -> TrainingJob? {
        let errorText = String(decoding: try JSON.encode(error), as: UTF8.self)
        return try await change(attemptID: attemptID, from: ["dispatched", "running"], event: "status", at: at) { db, id in
            try db.execute(
                """
                UPDATE jobs SET status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END,
                error = CASE WHEN attempts >= ? THEN ? ELSE NULL END, finished_at = CASE WHEN attempts >= ? THEN ? ELSE NULL END,
                attempt_id = CASE WHEN attempts >= ? THEN attempt_id ELSE NULL END, worker_id = CASE WHEN attempts >= ? THEN worker_id ELSE NULL END
                WHERE id = ?
                """,
                [
                    .integer(Int64(maxAttempts)), .integer(Int64(maxAttempts)), .text(errorText), .integer(Int64(maxAttempts)), at.sqliteMillis,
                    .integer(Int64(maxAttempts)), .integer(Int64(maxAttempts)), .text(id),
                ])
        }
    }

    public func cancel(id: String, tenant: String, at: Date) async throws -> (job: TrainingJob, stopped: (attemptID: String, workerID: String)?)? {
        let outcome = try await database.transaction { db -> (job: TrainingJob, stopped: (attemptID: String, workerID: String)?, changed: Bool)? in
            guard let job = try Self.read(db, "id = ? AND tenant = ?", [.text(id), .text(tenant)]) else { return nil }
            guard !job.status.isFinal else { return (job, nil, false) }
            let stopped = job.attemptID.flatMap { attempt in job.workerID.map { (attempt, $0) } }
            try db.execute("UPDATE jobs SET status = 'canceled', finished_at = ? WHERE id = ?", [at.sqliteMillis, .text(id)])
            let canceled = try Self.read(db, "id = ?", [.text(id)]) ?? job
            try Self.appendEvent(db, canceled, type: "status", at: at)
            try Self.deliverFinalState(db, canceled, at: at)
            return (canceled, stopped, true)
        }
        guard let outcome else { return nil }
        if outcome.changed { notifier?.notify(taskID: id) }
        return (outcome.job, outcome.stopped)
    }

    public func active() async throws -> [TrainingJob] {
        try await database.transaction { db in
            try db.query("SELECT \(Self.columns) FROM jobs WHERE status IN ('dispatched', 'running') ORDER BY id", []).compactMap(Self.decode)
        }
    }

    public func census() async throws -> [JobKind: [JobStatus: Int]] {
        try await database.transaction { db in
            var counts: [JobKind: [JobStatus: Int]] = [:]
            for row in try db.query(
                "SELECT kind, status, count(*) FROM jobs WHERE status IN ('queued', 'dispatched', 'running') GROUP BY kind, status", [])
            {
                guard let kind = JobKind(rawValue: row.text(0)), let status = JobStatus(rawValue: row.text(1)) else { continue }
                counts[kind, default: [:]][status] = row.int(2)
            }
            return counts
        }
    }

    public func events(jobID: String, after seq: Int64, limit: Int) async throws -> [JobEvent] {
        try await database.transaction { db in
            try db.query(
                "SELECT seq, job_id, type, status, progress, step, total_steps, loss, at FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                [.text(jobID), .integer(seq), .integer(Int64(limit))]
            ).compactMap { row in
                guard let status = JobStatus(rawValue: row.text(3)) else { return nil }
                return JobEvent(
                    seq: Int64(row.int(0)), jobID: row.text(1), type: row.text(2), status: status, progress: row.double(4), step: row.optionalInt(5),
                    totalSteps: row.optionalInt(6), loss: Self.optionalDouble(row, 7), at: row.date(8) ?? Date(timeIntervalSince1970: 0))
            }
        }
    }

    /// Applies `update` to the job whose current attempt is `attemptID`, if its status is one of
    /// `from`; appends the event and wakes the streams. Nil when the attempt is not current.
    private func change(
        attemptID: String, from statuses: [String], event: String, at: Date, _ update: @escaping @Sendable (SQLiteConnection, String) throws -> Void
    ) async throws -> TrainingJob? {
        let changed = try await database.transaction { db -> TrainingJob? in
            let marks = statuses.map { _ in "?" }.joined(separator: ", ")
            guard let job = try Self.read(db, "attempt_id = ? AND status IN (\(marks))", [.text(attemptID)] + statuses.map(SQLiteValue.text)) else {
                return nil
            }
            try update(db, job.id)
            guard let after = try Self.read(db, "id = ?", [.text(job.id)]) else { return nil }
            try Self.appendEvent(db, after, type: after.status != job.status ? "status" : event, at: at)
            if after.status != job.status { try Self.deliverFinalState(db, after, at: at) }
            return after
        }
        if let changed { notifier?.notify(taskID: changed.id) }
        return changed
    }

    /// A job that has just reached its final state and has a webhook: its delivery, in the same transaction.
    private static func deliverFinalState(_ db: SQLiteConnection, _ job: TrainingJob, at: Date) throws {
        guard job.status.isFinal, let url = job.webhookURL else { return }
        try SQLiteWebhookStore.insert(
            WebhookDelivery(
                id: IDGenerator.make("whd", at: at), tenant: job.tenant, taskID: job.id, url: url, status: .pending, attempts: [], tries: 0,
                nextAttemptAt: at, createdAt: at),
            db)
    }

    private static func appendEvent(_ db: SQLiteConnection, _ job: TrainingJob, type: String, at: Date) throws {
        try db.execute(
            "INSERT INTO job_events (job_id, type, status, progress, step, total_steps, loss, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(job.id), .text(type), .text(job.status.rawValue), .real(job.progress), job.step.map { .integer(Int64($0)) } ?? .null,
                job.totalSteps.map { .integer(Int64($0)) } ?? .null, job.loss.map(SQLiteValue.real) ?? .null, at.sqliteMillis,
            ])
    }

    private static func read(_ db: SQLiteConnection, _ condition: String, _ values: [SQLiteValue]) throws -> TrainingJob? {
        guard let row = try db.query("SELECT \(columns) FROM jobs WHERE \(condition)", values).first, var job = decode(row) else { return nil }
        job.owners = Set(try db.query("SELECT owner FROM job_owners WHERE job_id = ?", [.text(job.id)]).map { $0.text(0) })
        job.webhookURL = try db.query("SELECT url FROM job_webhooks WHERE job_id = ?", [.text(job.id)]).first?.text(0)
        return job
    }

    static func optionalDouble(_ row: [SQLiteValue], _ i: Int) -> Double? {
        switch row[i] {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }

    /// Nil for a row this binary cannot read (a kind or status from a newer one).
    static func decode(_ row: [SQLiteValue]) -> TrainingJob? {
        guard let kind = JobKind(rawValue: row.text(2)), let status = JobStatus(rawValue: row.text(3)),
            let resources = JobResources(rawValue: row.text(6)), let params = try? JSON.parse(Array(row.text(5).utf8))
        else { return nil }
        var job = TrainingJob(
            id: row.text(0), tenant: row.text(1), owners: [], kind: kind, datasetID: row.text(4), params: params, resources: resources,
            createdAt: row.date(18) ?? Date(timeIntervalSince1970: 0))
        job.status = status
        job.progress = row.double(7)
        job.step = row.optionalInt(8)
        job.totalSteps = row.optionalInt(9)
        job.loss = optionalDouble(row, 10)
        job.attemptID = row.optionalText(11)
        job.workerID = row.optionalText(12)
        job.attempts = row.int(13)
        if let step = row.optionalInt(14), let key = row.optionalText(15) { job.checkpoint = JobCheckpoint(step: step, blobKey: key) }
        job.outputModelKey = row.optionalText(16)
        job.error = row.optionalText(17).flatMap { try? SQLiteJSON.decode(TaskError.self, $0) }
        job.startedAt = row.date(19)
        job.finishedAt = row.date(20)
        return job
    }
}
