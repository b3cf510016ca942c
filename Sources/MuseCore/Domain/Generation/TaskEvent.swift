import Foundation

/// One change of a task, as its event stream shows it (docs/API.md, `/events`): `status` for a move
/// between unfinished states, `progress`, and the final `succeeded`, `failed` or `canceled`.
/// `seq` orders all events and is the SSE `id:`; `task` is the task right after the change.
public struct TaskEvent: Sendable, Equatable {
    public var seq: Int64
    public var type: String
    public var task: GenerationTask

    public init(seq: Int64, type: String, task: GenerationTask) {
        self.seq = seq
        self.type = type
        self.task = task
    }

    public var isFinal: Bool { task.status.isFinal }

    /// The event type for a change from (`status`, `progress`) to `task`'s; nil when nothing a client sees changed.
    public static func type(from status: TaskStatus?, progress: Double?, to task: GenerationTask) -> String? {
        if task.status.isFinal { return status == task.status ? nil : task.status.rawValue }
        if status != task.status { return "status" }
        return progress == task.progress ? nil : "progress"
    }
}
