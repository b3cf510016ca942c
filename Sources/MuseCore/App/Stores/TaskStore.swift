/// Where generation tasks live. A store keeps no rules of its own: `TaskTransition` decides a
/// change and what it produces, the store writes that in one transaction, compare-and-set: of
/// two callers moving the same task from the same state, exactly one succeeds.
public protocol TaskStore: Sendable {
    /// Who may read an image, or start an img2img task from it: its tenant.
    func imageTenant(_ imageID: String) async throws -> String?
    /// Commits a new task with its creation event (`TaskChange(from: nil, to:)`); returns how many queued tasks are ahead of it (nil unless queued),
    /// counted in the same transaction so the answer is true at commit. With `idempotencyKey`,
    /// the tenant's claim of that key records the task in the same transaction.
    func insert(_ task: GenerationTask, idempotencyKey: String?) async throws -> Int?
    /// The task if it exists and belongs to `tenant`.
    func task(id: String, tenant: String) async throws -> GenerationTask?
    /// Newest first; `before` is the id of the last task of the previous page.
    func list(tenant: String, status: TaskStatus?, limit: Int, before: String?) async throws -> [GenerationTask]
    /// Applies `transition` to the tenant's task and writes what it produced; nil when there is
    /// no such task or it is not in a status the transition starts from.
    func apply(_ transition: TaskTransition, taskID: String, tenant: String) async throws -> GenerationTask?
    /// For each queued task given, how many queued tasks are ahead of it (online before
    /// offline, then oldest first), by task id; one transaction for the lot.
    func tasksAhead(of tasks: [GenerationTask]) async throws -> [String: Int]
}

extension TaskStore {
    @discardableResult
    public func insert(_ task: GenerationTask) async throws -> Int? {
        try await insert(task, idempotencyKey: nil)
    }
}
