/// The persisted event log of tasks: every state change appends an event in the same
/// transaction as the change, so a stream resumed with `Last-Event-ID` (after a disconnect, a
/// restart, or on another replica) misses nothing.
public protocol TaskEventStore: Sendable {
    /// Events of a task after `seq`, oldest first.
    func events(taskID: String, after seq: Int64, limit: Int) async throws -> [TaskEvent]
}

/// Wakes the streams of a task when its events change (in process on the embedded default;
/// Redis pub/sub across replicas). A missed wake-up only delays a stream: it also re-reads
/// the log on a timer.
public protocol TaskEventNotifier: Sendable {
    func notify(taskID: String)
    /// Yields once per notification for the task, until the stream is dropped.
    func subscribe(taskID: String) -> AsyncStream<Void>
}
