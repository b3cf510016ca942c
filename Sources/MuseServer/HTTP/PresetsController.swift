import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra
import MuseJSON

/// `/v1/presets`: HTTP work only — decode, call the service, encode.
public struct PresetsController: Sendable {
    let service: PresetService

    public init(service: PresetService) {
        self.service = service
    }

    public func register(on routes: RouteGroup) {
        routes.post("/v1/presets") { request, context in
            let preset = try await service.create(try JSONBody.decode(PresetInput.self, from: request), tenant: try context.tenant())
            var response = try Response.json(PresetResource(preset), status: .created)
            response.headerFields[.location] = "/v1/presets/\(preset.id)"
            return response
        }
        routes.get("/v1/presets") { request, context in
            let limit = try GenerationsController.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "pre")
            let page = try await service.list(tenant: try context.tenant(), limit: limit, before: before)
            return try .json(ListResource(data: page.presets.map(PresetResource.init), nextCursor: Cursor.encode(page.next)))
        }
        routes.get("/v1/presets/{id}") { request, context in
            let version = try request.query["version"].map { raw throws(HTTPError) -> Int in
                guard let version = Int(raw), version >= 1 else { throw HTTPError.invalidField("version", "must be a positive integer") }
                return version
            }
            return try .json(PresetResource(try await service.preset(id: try request.parameters.require("id"), version: version, tenant: try context.tenant())))
        }
        routes.put("/v1/presets/{id}") { request, context in
            let input = try JSONBody.decode(PresetInput.self, from: request)
            return try .json(PresetResource(try await service.update(id: try request.parameters.require("id"), input, tenant: try context.tenant())))
        }
        routes.delete("/v1/presets/{id}") { request, context in
            try await service.delete(id: try request.parameters.require("id"), tenant: try context.tenant())
            return Response(status: .noContent)
        }
    }
}

/// The preset object of docs/API.md.
struct PresetResource: Encodable {
    var id: String
    var name: String
    var description: String
    var version: Int
    var params: JSONValue
    var overridable: [String]
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, description, version, params, overridable
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ preset: Preset) {
        id = preset.id
        name = preset.name
        description = preset.description
        version = preset.version
        params = preset.params
        overridable = preset.overridable
        createdAt = APITime.format(preset.createdAt)
        updatedAt = APITime.format(preset.updatedAt)
    }
}
