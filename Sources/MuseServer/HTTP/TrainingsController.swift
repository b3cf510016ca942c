import HTTPTypes
import MuseCore
import MuseHTTP
import MuseJSON
import NIOCore

/// `/v1/trainings`, and the crop and tag jobs of `/v1/datasets/{id}` and `/v1/jobs`: HTTP work only.
public struct TrainingsController: Sendable {
    let service: TrainingService

    public init(service: TrainingService) {
        self.service = service
    }

    struct CropBody: Decodable {
        let width: Int
        let height: Int
        let mode: String?
    }

    struct TagBody: Decodable {
        let triggerWord: String

        enum CodingKeys: String, CodingKey {
            case triggerWord = "trigger_word"
        }
    }

    struct TrainingBody: Decodable {
        let baseModel: String
        let dataset: String
        let outputName: String
        let triggerWord: String
        let params: JSONValue?
        let resources: String?
        let webhookURL: String?

        enum CodingKeys: String, CodingKey {
            case dataset, params, resources
            case baseModel = "base_model"
            case outputName = "output_name"
            case triggerWord = "trigger_word"
            case webhookURL = "webhook_url"
        }
    }

    static let auxiliary: Set<JobKind> = [.crop, .tag]

    public func register(on routes: RouteGroup) {
        routes.post("/v1/datasets/{id}/crop") { request, context in
            let body = try JSONBody.decode(CropBody.self, from: request)
            let job = try await service.crop(
                datasetID: try request.parameters.require("id"), width: body.width, height: body.height, mode: body.mode ?? "center",
                caller: try context.caller())
            return try Self.accepted(JobResource(job: job), location: "/v1/jobs/\(job.id)")
        }
        routes.post("/v1/datasets/{id}/tag") { request, context in
            let body = try JSONBody.decode(TagBody.self, from: request)
            let job = try await service.tag(datasetID: try request.parameters.require("id"), triggerWord: body.triggerWord, caller: try context.caller())
            return try Self.accepted(JobResource(job: job), location: "/v1/jobs/\(job.id)")
        }
        routes.get("/v1/jobs/{id}") { request, context in
            try .json(JobResource(job: try await service.job(id: try request.parameters.require("id"), kinds: Self.auxiliary, caller: try context.caller())))
        }
        routes.post("/v1/jobs/{id}/cancel") { request, context in
            try .json(JobResource(job: try await service.cancel(id: try request.parameters.require("id"), kinds: Self.auxiliary, caller: try context.caller())))
        }
        routes.post("/v1/trainings") { request, context in
            let body = try JSONBody.decode(TrainingBody.self, from: request)
            let resources = try body.resources.map { raw throws(HTTPError) -> JobResources in
                guard let value = JobResources(rawValue: raw) else { throw HTTPError.invalidField("resources", "must be shared or private") }
                return value
            }
            let job = try await service.train(
                baseModel: body.baseModel, datasetID: body.dataset, outputName: body.outputName, triggerWord: body.triggerWord, params: body.params,
                resources: resources ?? .shared, webhookURL: body.webhookURL, caller: try context.caller())
            return try Self.accepted(TrainingResource(job), location: "/v1/trainings/\(job.id)")
        }
        routes.get("/v1/trainings") { request, context in
            let limit = try Cursor.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "trn")
            let page = try await service.list(kinds: [.train], caller: try context.caller(), limit: limit, before: before)
            return try .json(ListResource(data: page.jobs.map { TrainingResource($0) }, nextCursor: Cursor.encode(page.next)))
        }
        routes.get("/v1/trainings/{id}") { request, context in
            try .json(TrainingResource(try await service.job(id: try request.parameters.require("id"), kinds: [.train], caller: try context.caller())))
        }
        routes.post("/v1/trainings/{id}/cancel") { request, context in
            try .json(TrainingResource(try await service.cancel(id: try request.parameters.require("id"), kinds: [.train], caller: try context.caller())))
        }
        routes.get("/v1/trainings/{id}/events") { request, context in
            let after = try LastEventID.parse(request)
            let items = try await service.follow(id: try request.parameters.require("id"), caller: try context.caller(), after: after)
            return .eventStream(writeTimeout: service.feedSettings.writeTimeout) { writer in
                for try await item in items {
                    switch item {
                    case .event(let event):
                        let data = try JSONBody.encode(JobEventResource(event: event))
                        try await writer.send(event: event.type, id: String(event.seq), data: String(buffer: data))
                    case .keepAlive:
                        try await writer.comment("keep-alive")
                    }
                }
            }
        }
        routes.get("/v1/trainings/{id}/generation-params") { request, context in
            let suggestion = try await service.generationParams(id: try request.parameters.require("id"), caller: try context.caller())
            return try .json(
                JSONValue.object([
                    ("model", .string(suggestion.model)), ("prompt", .string(suggestion.prompt)),
                    ("loras", .array([.object([("key", .string(suggestion.lora)), ("weight", .number(String(suggestion.weight)))])])),
                ]))
        }
        routes.get("/v1/trainings/{id}/loss.svg") { request, context in
            let (job, points) = try await service.lossCurve(id: try request.parameters.require("id"), caller: try context.caller())
            var response = Response.bytes(
                ByteBuffer(string: LossChart.svg(points: points, totalSteps: job.totalSteps)), contentType: "image/svg+xml; charset=utf-8")
            response.headerFields[.cacheControl] = "no-store"
            response.headerFields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            response.headerFields[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'"
            return response
        }
    }

    static func accepted(_ body: some Encodable, location: String) throws -> Response {
        var response = try Response.json(body, status: .accepted)
        response.headerFields[.location] = location
        return response
    }
}
