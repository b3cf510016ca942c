import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra
import MuseJSON
import MuseWorkerProtocol

/// `/v1/generations`: HTTP work only — decode, call the service, encode.
public struct GenerationsController: Sendable {
    let service: GenerationService
    let feed: TaskEventFeed?

    public init(service: GenerationService, feed: TaskEventFeed? = nil) {
        self.service = service
        self.feed = feed
    }

    public func register(on routes: RouteGroup) {
        routes.post("/v1/generations") { request, context in
            // Full parameters, or a preset with overrides (docs/API.md): the `preset` member tells them apart.
            let body = try JSONBody.value(from: request)
            let submission: Submission =
                body[member: "preset"] != nil
                ? .preset(try JSON.decode(PresetRun.self, from: body))
                : .params(try JSON.decode(GenerationRequest.self, from: body))
            let (view, replayed) = try await service.submit(submission, caller: try context.caller(), idempotency: try Self.idempotencyKey(request))
            var response = try Response.json(TaskResource(view), status: replayed ? .ok : .accepted)
            response.headerFields[.location] = "/v1/generations/\(view.task.id)"
            return response
        }
        routes.get("/v1/generations") { request, context in
            let status = try request.query["status"].map { raw throws(HTTPError) -> TaskStatus in
                guard let status = TaskStatus(rawValue: raw) else {
                    throw HTTPError.invalidField("status", "must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return status
            }
            let limit = try Cursor.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "gen")
            let page = try await service.list(tenant: try context.tenant(), status: status, limit: limit, before: before)
            return try .json(ListResource(data: page.tasks.map(TaskResource.init), nextCursor: Cursor.encode(page.next)))
        }
        routes.get("/v1/generations/{id}") { request, context in
            try .json(TaskResource(try await service.task(id: try request.parameters.require("id"), tenant: try context.tenant())))
        }
        routes.get("/v1/generations/{id}/params") { request, context in
            let view = try await service.task(id: try request.parameters.require("id"), tenant: try context.tenant())
            return try .json(ParamsResource(view.task.params))
        }
        routes.get("/v1/generations/{id}/events") { request, context in
            guard let feed else { throw HTTPError.notFound() }
            let after = try LastEventID.parse(request)
            let items = try await feed.follow(id: try request.parameters.require("id"), tenant: try context.tenant(), after: after)
            return .eventStream(writeTimeout: feed.settings.writeTimeout) { writer in
                for try await item in items {
                    switch item {
                    case .event(let event):
                        let data = try JSONBody.encode(TaskResource(TaskView(task: event.task)))
                        try await writer.send(event: event.type, id: String(event.seq), data: String(buffer: data))
                    case .keepAlive:
                        try await writer.comment("keep-alive")
                    }
                }
            }
        }
        routes.post("/v1/generations/{id}/cancel") { request, context in
            try .json(TaskResource(try await service.cancel(id: try request.parameters.require("id"), tenant: try context.tenant())))
        }
    }

    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!

    /// The `Idempotency-Key` header (1 to 255 visible ASCII characters) with the body's hash.
    static func idempotencyKey(_ request: Request) throws(HTTPError) -> IdempotencyKey? {
        guard let key = request.head.headerFields[idempotencyKeyHeader] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw HTTPError.invalidField("Idempotency-Key", "must be 1 to 255 visible ASCII characters")
        }
        return IdempotencyKey(key: key, bodyHash: Digest.hex(Digest.sha256(Array(buffer: request.body))))
    }
}

/// `GET /v1/generations/{id}/params`: what a client needs to refill its form and run again.
struct ParamsResource: Encodable {
    var params: GenerationParams
    /// The models the params reference, by key: the checkpoint, then the LoRAs.
    var modelKeys: [String]

    enum CodingKeys: String, CodingKey {
        case params
        case modelKeys = "model_keys"
    }

    init(_ params: GenerationParams) {
        self.params = params
        modelKeys = [params.model] + params.loras.map(\.key)
    }
}
