import Foundation
import MuseHTTP

/// The tenant's side of webhooks: the signing secret, deliveries and their tries, redelivery.
public struct WebhookService: Sendable {
    let store: any WebhookStore
    let tasks: any TaskStore

    public init(store: any WebhookStore, tasks: any TaskStore) {
        self.store = store
        self.tasks = tasks
    }

    public func secret(tenant: String) async throws -> String {
        try await store.secret(tenant: tenant, orCreate: WebhookSignature.newSecret())
    }

    /// A new secret; deliveries from now on are signed with it.
    public func rotate(tenant: String) async throws -> String {
        let secret = WebhookSignature.newSecret()
        try await store.replaceSecret(tenant: tenant, with: secret)
        return secret
    }

    /// One page of deliveries (of one task when given; another tenant's task is 404), newest first.
    public func deliveries(tenant: String, taskID: String?, limit: Int, before: String?) async throws -> (deliveries: [WebhookDelivery], next: String?) {
        if let taskID, try await tasks.task(id: taskID, tenant: tenant) == nil { throw HTTPError.notFound("no generation \"\(taskID)\"") }
        let page = try await store.deliveries(tenant: tenant, taskID: taskID, limit: limit + 1, before: before)
        let split = Page.split(page, limit: limit, id: \.id)
        return (split.items, split.next)
    }

    /// Sends a delivery once more, now (its earlier tries stay listed).
    public func redeliver(id: String, tenant: String) async throws -> WebhookDelivery {
        guard let delivery = try await store.redeliver(id: id, tenant: tenant, now: Date()) else { throw HTTPError.notFound("no webhook delivery \"\(id)\"") }
        return delivery
    }
}
