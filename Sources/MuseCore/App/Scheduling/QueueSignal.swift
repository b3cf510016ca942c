/// How the services tell the scheduler that the queue changed. `Scheduler` is the one in a
/// server; a service built without one (a command, a test) passes nil.
public protocol QueueSignal: Sendable {
    /// A task was committed (queued or scheduled): dispatch soon.
    func taskSubmitted()
    /// A task was canceled while a worker may hold it: tell the worker.
    func taskCanceled(_ task: GenerationTask)
}
