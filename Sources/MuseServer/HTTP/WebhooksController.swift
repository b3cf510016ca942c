import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra
import MuseJSON

/// `/v1/webhooks/…` and `/v1/webhook-deliveries…`: HTTP work only.
public struct WebhooksController: Sendable {
    let service: WebhookService

    public init(service: WebhookService) {
        self.service = service
    }

    public func register(on routes: RouteGroup) {
        routes.get("/v1/webhooks/secret") { _, context in
            try .json(["secret": try await service.secret(tenant: try context.tenant())])
        }
        routes.post("/v1/webhooks/secret/rotate") { _, context in
            try .json(["secret": try await service.rotate(tenant: try context.tenant())])
        }
        routes.get("/v1/webhook-deliveries") { request, context in
            let task = request.query["task"]
            let limit = try Cursor.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "whd")
            let page = try await service.deliveries(tenant: try context.tenant(), taskID: task, limit: limit, before: before)
            return try .json(ListResource(data: page.deliveries.map(DeliveryResource.init), nextCursor: Cursor.encode(page.next)))
        }
        routes.get("/v1/webhook-deliveries/{id}/attempts") { request, context in
            let limit = try Cursor.limit(request.query["limit"])
            let before = try request.query["cursor"].map { raw throws(HTTPError) -> Int64 in
                guard raw.utf8.count <= 18, let position = Int64(raw), position > 0 else {
                    throw HTTPError.invalidField("cursor", "not a cursor this API returned")
                }
                return position
            }
            let page = try await service.attempts(deliveryID: try request.parameters.require("id"), tenant: try context.tenant(), limit: limit, before: before)
            return try .json(ListResource(data: page.attempts.map(DeliveryResource.Attempt.init), nextCursor: page.next.map(String.init)))
        }
        routes.post("/v1/webhook-deliveries/{id}/redeliver") { request, context in
            try .json(DeliveryResource(try await service.redeliver(id: try request.parameters.require("id"), tenant: try context.tenant())), status: .accepted)
        }
    }
}

/// A webhook delivery as the API shows it: its latest tries (at most 20) and how many it made.
struct DeliveryResource: Encodable {
    struct Attempt: Encodable {
        var at: String?
        var statusCode: Int?
        var latencyMs: Int
        var error: String?

        enum CodingKeys: String, CodingKey {
            case at, error
            case statusCode = "status_code"
            case latencyMs = "latency_ms"
        }

        init(_ attempt: WebhookAttempt) {
            at = APITime.format(attempt.at)
            statusCode = attempt.statusCode
            latencyMs = attempt.latencyMs
            error = attempt.error
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(at, forKey: .at)
            try c.encode(statusCode, forKey: .statusCode)
            try c.encode(latencyMs, forKey: .latencyMs)
            try c.encode(error, forKey: .error)
        }
    }

    var id: String
    var taskID: String
    var url: String
    var status: DeliveryStatus
    var attempts: [Attempt]
    var nextAttemptAt: String?
    var createdAt: String?
    var tries: Int

    enum CodingKeys: String, CodingKey {
        case id, url, status, attempts, tries
        case taskID = "task_id"
        case nextAttemptAt = "next_attempt_at"
        case createdAt = "created_at"
    }

    init(_ delivery: WebhookDelivery) {
        id = delivery.id
        taskID = delivery.taskID
        url = delivery.url
        status = delivery.status
        attempts = delivery.attempts.map(Attempt.init)
        nextAttemptAt = delivery.status == .pending ? APITime.format(delivery.nextAttemptAt) : nil
        createdAt = APITime.format(delivery.createdAt)
        tries = delivery.tries
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(taskID, forKey: .taskID)
        try c.encode(url, forKey: .url)
        try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(tries, forKey: .tries)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// The task object as bytes, for webhook bodies.
public enum TaskJSON {
    public static func encode(_ task: GenerationTask) throws -> [UInt8] {
        Array(buffer: try JSONBody.encode(TaskResource(TaskView(task: task))))
    }
}
