import CoreMetrics
import MuseCore

/// The embedded database's metrics for operators: how many transactions share a commit, how
/// long a transaction waits for its group to start (by lane), and how long a group takes.
/// Waits that grow while groups stay small mean the database, not the load, is the limit.
public struct SQLiteMetrics: Sendable {
    private let groupSize: Recorder
    private let groupDuration: Timer
    private let clientWait: Timer
    private let dispatchWait: Timer

    public init(factory: any MetricsFactory) {
        groupSize = Recorder(label: "muse_sqlite_group_transactions", factory: factory)
        groupDuration = Timer(label: "muse_sqlite_group_seconds", preferredDisplayUnit: .seconds, factory: factory)
        clientWait = Timer(label: "muse_sqlite_wait_seconds", dimensions: [("lane", "client")], preferredDisplayUnit: .seconds, factory: factory)
        dispatchWait = Timer(label: "muse_sqlite_wait_seconds", dimensions: [("lane", "dispatch")], preferredDisplayUnit: .seconds, factory: factory)
    }

    func group(size: Int, nanoseconds: UInt64) {
        groupSize.record(size)
        groupDuration.recordNanoseconds(Int64(nanoseconds))
    }

    func waited(_ lane: SQLiteGroupCommit.Lane, nanoseconds: UInt64) {
        (lane == .dispatch ? dispatchWait : clientWait).recordNanoseconds(Int64(nanoseconds))
    }
}
