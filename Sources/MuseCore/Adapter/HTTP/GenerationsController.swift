import HTTPTypes
import MuseHTTP

/// `/v1/generations`: HTTP work only — decode, call the service, encode.
public struct GenerationsController: Sendable {
    let service: GenerationService

    public init(service: GenerationService) {
        self.service = service
    }

    public func register(on router: Router) {
        router.post("/v1/generations") { request, context in
            let body = try JSONBody.decode(GenerationRequest.self, from: request)
            let view = try await service.submit(body, tenant: try context.tenant())
            var response = try Response.json(TaskResource(view), status: .accepted)
            response.headerFields[.location] = "/v1/generations/\(view.task.id)"
            return response
        }
        router.get("/v1/generations") { request, context in
            let status = try request.query["status"].map { raw throws(HTTPError) -> TaskStatus in
                guard let status = TaskStatus(rawValue: raw) else {
                    throw HTTPError.invalidField("status", "must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return status
            }
            let limit = try Self.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "gen")
            let page = try await service.list(tenant: try context.tenant(), status: status, limit: limit, before: before)
            return try .json(ListResource(data: page.tasks.map(TaskResource.init), nextCursor: Cursor.encode(page.next)))
        }
        router.get("/v1/generations/{id}") { request, context in
            try .json(TaskResource(try await service.task(id: try request.parameters.require("id"), tenant: try context.tenant())))
        }
        router.post("/v1/generations/{id}/cancel") { request, context in
            try .json(TaskResource(try await service.cancel(id: try request.parameters.require("id"), tenant: try context.tenant())))
        }
    }

    static func limit(_ raw: String?) throws(HTTPError) -> Int {
        guard let raw else { return 20 }
        guard let limit = Int(raw), (1...100).contains(limit) else { throw HTTPError.invalidField("limit", "must be an integer from 1 to 100") }
        return limit
    }
}
