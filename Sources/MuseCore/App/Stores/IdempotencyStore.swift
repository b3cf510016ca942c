import Foundation

/// What a create request with an `Idempotency-Key` finds when it claims the key.
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is new (or expired): this request creates the task.
    case claimed
    /// A first request with the same body created this task.
    case done(taskID: String)
    /// A first request with the same key is still being processed.
    case inProgress
    /// The key was used with another body.
    case mismatch
}

/// Idempotency keys per tenant (docs/ARCHITECTURE.md): claimed atomically, so of many concurrent
/// requests with one key exactly one creates the task; the task's insert completes the claim
/// in the same transaction (see `TaskStore.insert(_:idempotencyKey:)`).
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for a request whose body hashes to `bodyHash`. Keys older than `expiredBefore`
    /// count as new; a claim never completed since `abandonedBefore` (its server died) is taken over.
    func claim(tenant: String, key: String, bodyHash: String, now: Date, expiredBefore: Date, abandonedBefore: Date) async throws -> IdempotencyClaim
    /// Forgets a claim whose request failed, so the client may retry with the same key.
    func release(tenant: String, key: String) async throws
    /// Deletes keys older than `before`; returns how many.
    func purge(before: Date) async throws -> Int
}
