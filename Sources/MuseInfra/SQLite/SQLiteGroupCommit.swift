import Dispatch
import MuseCore
import Synchronization

/// Transactions on the one connection, committed in groups: while one group runs, the
/// transactions asked for meanwhile queue, and the next group runs them all between one
/// `BEGIN IMMEDIATE` and one `COMMIT`, each in a savepoint of its own. One commit then pays
/// for many submits, and a transaction waits at most for the group ahead of it, not for every
/// transaction queued before it. The dispatch lane (the scheduler, worker callbacks) goes at
/// the head of each group, so a burst of client submits never leaves GPUs waiting.
final class SQLiteGroupCommit: Sendable {
    enum Lane: Sendable {
        case client, dispatch
    }

    /// One transaction: `run` does its work inside the group; `finish` hears its outcome, after
    /// the group's commit when it succeeded (so no caller sees work that is not durable yet).
    struct Job: Sendable {
        let lane: Lane
        let run: @Sendable (SQLiteConnection) throws -> Void
        let finish: @Sendable ((any Error)?) -> Void
        let queuedAt = DispatchTime.now().uptimeNanoseconds
    }

    private struct Queue {
        var dispatch: [Job] = []
        var client: [Job] = []
        var draining = false

        /// Every dispatch job, then client jobs up to `limit` in all.
        mutating func take(limit: Int) -> [Job] {
            let clients = min(client.count, max(0, limit - dispatch.count))
            let group = dispatch + client.prefix(clients)
            dispatch.removeAll(keepingCapacity: true)
            client.removeFirst(clients)
            return group
        }
    }

    /// Bounds a group, and so how long a dispatch-lane transaction can wait behind one.
    static let maxGroup = 64

    let connection: SQLiteConnection
    private let pool: BlockingPool
    private let metrics: SQLiteMetrics?
    private let queue = Mutex(Queue())

    init(connection: SQLiteConnection, pool: BlockingPool, metrics: SQLiteMetrics?) {
        self.connection = connection
        self.pool = pool
        self.metrics = metrics
    }

    func enqueue(_ job: Job) {
        let startDrain = queue.withLock { queue in
            switch job.lane {
            case .dispatch: queue.dispatch.append(job)
            case .client: queue.client.append(job)
            }
            defer { queue.draining = true }
            return !queue.draining
        }
        if startDrain { pool.execute { [self] in drain() } }
    }

    /// Runs groups on one pool thread until the queue is empty.
    private func drain() {
        while true {
            let group = queue.withLock { queue in
                let group = queue.take(limit: Self.maxGroup)
                if group.isEmpty { queue.draining = false }
                return group
            }
            guard !group.isEmpty else { return }
            let started = DispatchTime.now().uptimeNanoseconds
            if let metrics {
                for job in group { metrics.waited(job.lane, nanoseconds: started &- job.queuedAt) }
            }
            commit(group[...])
            metrics?.group(size: group.count, nanoseconds: DispatchTime.now().uptimeNanoseconds &- started)
        }
    }

    private func commit(_ group: ArraySlice<Job>) {
        guard !group.isEmpty else { return }
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            for job in group { job.finish(error) }
            return
        }
        var done: [Job] = []
        for (index, job) in zip(group.indices, group) {
            do {
                try connection.execute("SAVEPOINT job")
                try job.run(connection)
                try connection.execute("RELEASE job")
                done.append(job)
            } catch  where connection.isInTransaction {
                // The job's own statements are undone; the group goes on.
                _ = try? connection.execute("ROLLBACK TO job")
                _ = try? connection.execute("RELEASE job")
                job.finish(error)
            } catch {
                // SQLite rolled the whole transaction back (disk full, I/O error): the work done
                // so far in this group is gone, and the rest gets a group of its own.
                for job in done + [job] { job.finish(error) }
                commit(group[(index + 1)...])
                return
            }
        }
        do {
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            for job in done { job.finish(error) }
            return
        }
        for job in done { job.finish(nil) }
    }
}
