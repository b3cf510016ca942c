import Foundation

/// Webhook secrets, deliveries and their tries. Deliveries are created by the task store with a
/// task's final state (same transaction); this store hands them out and records the outcome.
public protocol WebhookStore: Sendable {
    /// The tenant's signing secret; `candidate` becomes it on first use.
    func secret(tenant: String, orCreate candidate: String) async throws -> String
    /// Replaces the tenant's secret.
    func replaceSecret(tenant: String, with secret: String) async throws
    /// Up to `limit` pending deliveries due by `now`, oldest first (without their tries).
    func due(now: Date, limit: Int) async throws -> [WebhookDelivery]
    /// Takes a due delivery for one try, compare-and-set: its next try moves to `until` (so a
    /// crash mid-try retries it then); false if another dispatcher took it first.
    func lease(id: String, now: Date, until: Date) async throws -> Bool
    /// Records one try; `next` is the next try's time (pending), or nil with the final status.
    func record(deliveryID: String, attempt: WebhookAttempt, status: DeliveryStatus, next: Date?) async throws
    func delivery(id: String, tenant: String) async throws -> WebhookDelivery?
    /// One page of a delivery's tries, newest first, each with its position (the cursor); nil
    /// when the delivery is not the tenant's.
    func attempts(deliveryID: String, tenant: String, limit: Int, before: Int64?) async throws -> [(position: Int64, attempt: WebhookAttempt)]?
    /// The tenant's deliveries (of one task, or all), newest first.
    func deliveries(tenant: String, taskID: String?, limit: Int, before: String?) async throws -> [WebhookDelivery]
    /// Makes a delivery that is not pending pending again, due now; nil if there is none, or it
    /// was pending already (compare-and-set: of concurrent calls, one wins).
    func redeliver(id: String, tenant: String, now: Date) async throws -> WebhookDelivery?
    /// Moves due deliveries' next try to `until` (their host is at its limit): they leave the
    /// head of the queue, so deliveries to other hosts behind them are not held up.
    func postpone(ids: [String], until: Date) async throws
}
