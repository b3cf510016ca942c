import Foundation
import MuseJSON
import Synchronization

/// The tenant's side of webhooks: the signing secret, deliveries and their tries, redelivery.
public struct WebhookService: Sendable {
    let store: any WebhookStore
    let tasks: any TaskStore
    /// Trainings have deliveries too.
    let jobs: any JobStore
    let signature: WebhookSignature
    let redeliveries: RedeliveryLimit

    public init(
        store: any WebhookStore, tasks: any TaskStore, jobs: any JobStore, signature: WebhookSignature,
        redeliveries: RedeliveryLimit = RedeliveryLimit(perMinute: 20)
    ) {
        self.store = store
        self.tasks = tasks
        self.jobs = jobs
        self.signature = signature
        self.redeliveries = redeliveries
    }

    public func secret(tenant: String) async throws -> String {
        try await store.secret(tenant: tenant, orCreate: signature.newSecret())
    }

    /// A new secret; deliveries from now on are signed with it.
    public func rotate(tenant: String) async throws -> String {
        let secret = signature.newSecret()
        try await store.replaceSecret(tenant: tenant, with: secret)
        return secret
    }

    /// One page of deliveries (of one generation or training when given; another tenant's is 404), newest first.
    public func deliveries(tenant: String, taskID: String?, limit: Int, before: String?) async throws -> (deliveries: [WebhookDelivery], next: String?) {
        if let taskID, try await tasks.task(id: taskID, tenant: tenant) == nil, try await jobs.job(id: taskID, tenant: tenant)?.kind != .train {
            throw ServiceError.notFound("no generation or training \"\(taskID)\"")
        }
        let page = try await store.deliveries(tenant: tenant, taskID: taskID, limit: limit + 1, before: before)
        let split = Page.split(page, limit: limit, id: \.id)
        return (split.items, split.next)
    }

    /// One page of a delivery's tries, newest first; the cursor is the last one's position.
    public func attempts(deliveryID: String, tenant: String, limit: Int, before: Int64?) async throws -> (attempts: [WebhookAttempt], next: Int64?) {
        guard let page = try await store.attempts(deliveryID: deliveryID, tenant: tenant, limit: limit + 1, before: before) else {
            throw ServiceError.notFound("no webhook delivery \"\(deliveryID)\"")
        }
        let shown = page.prefix(limit)
        return (shown.map(\.attempt), page.count > limit ? shown.last?.position : nil)
    }

    /// Sends a delivery once more, now (its earlier tries stay listed). One that is still pending
    /// (waiting for its next try, or trying) is 409: a delivery has one try at a time. A tenant
    /// may redeliver `redeliveries.perMinute` times a minute (429 beyond).
    public func redeliver(id: String, tenant: String) async throws -> WebhookDelivery {
        guard let current = try await store.delivery(id: id, tenant: tenant) else { throw ServiceError.notFound("no webhook delivery \"\(id)\"") }
        guard current.status != .pending else {
            throw ServiceError.conflict("the delivery is pending: its next try is already scheduled")
        }
        if let wait = redeliveries.take(tenant) {
            throw ServiceError.rateLimited("at most \(redeliveries.perMinute) redeliveries a minute", retryAfterSeconds: wait)
        }
        // Another redelivery of it won the race: it is pending now.
        guard let delivery = try await store.redeliver(id: id, tenant: tenant, now: Date()) else {
            throw ServiceError.conflict("the delivery is pending: its next try is already scheduled")
        }
        return delivery
    }
}

/// Redeliveries per tenant in the last minute.
public final class RedeliveryLimit: Sendable {
    public let perMinute: Int
    private let recent = Mutex<[String: [Date]]>([:])

    public init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Records one for `tenant`; or, when its minute is full, the seconds until one frees.
    func take(_ tenant: String, now: Date = Date()) -> Int? {
        recent.withLock { recent in
            var times = recent[tenant, default: []].filter { now.timeIntervalSince($0) < 60 }
            defer { recent[tenant] = times.isEmpty ? nil : times }
            guard times.count < perMinute else { return max(1, Int((60 - now.timeIntervalSince(times[0])).rounded(.up))) }
            times.append(now)
            return nil
        }
    }
}
