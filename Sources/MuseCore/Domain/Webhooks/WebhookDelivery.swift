import Foundation

/// Where a webhook delivery stands: retried until it succeeds, the receiver answers 410, or
/// the retry schedule runs out.
public enum DeliveryStatus: String, Sendable, Codable {
    case pending, succeeded, failed, stopped
}

/// One try of a delivery: when, what the receiver answered (or the error), how long it took.
public struct WebhookAttempt: Sendable, Equatable {
    public var at: Date
    public var statusCode: Int?
    public var latencyMs: Int
    public var error: String?

    public init(at: Date, statusCode: Int?, latencyMs: Int, error: String?) {
        self.at = at
        self.statusCode = statusCode
        self.latencyMs = latencyMs
        self.error = error
    }
}

/// The POST of a task's final state to its `webhook_url` (docs/WORKER-PROTOCOL.md, Webhooks).
/// Its id is the `webhook-id` header, the same on every try so receivers can de-duplicate.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var taskID: String
    public var url: String
    public var status: DeliveryStatus
    public var attempts: [WebhookAttempt]
    /// Tries made so far (also when `attempts` was not read, or holds only the latest).
    public var tries: Int

    /// Tries listed with a delivery: the latest; `tries` counts them all.
    public static let listedTries = 20
    public var nextAttemptAt: Date?
    public var createdAt: Date

    public init(
        id: String, tenant: String, taskID: String, url: String, status: DeliveryStatus, attempts: [WebhookAttempt], tries: Int,
        nextAttemptAt: Date?, createdAt: Date
    ) {
        self.id = id
        self.tenant = tenant
        self.taskID = taskID
        self.url = url
        self.status = status
        self.attempts = attempts
        self.tries = tries
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
    }
}
