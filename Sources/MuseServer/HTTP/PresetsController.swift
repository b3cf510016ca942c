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
            let caller = try context.caller()
            let preset = try await service.create(try JSONBody.decode(PresetInput.self, from: request), caller: caller)
            var response = try Response.json(PresetResource(preset, for: caller), status: .created)
            response.headerFields[.location] = "/v1/presets/\(preset.id)"
            return response
        }
        routes.get("/v1/presets") { request, context in
            let limit = try Cursor.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "pre")
            let caller = try context.caller()
            let page = try await service.list(caller: caller, limit: limit, before: before)
            return try .json(ListResource(data: page.presets.map { PresetResource($0, for: caller) }, nextCursor: Cursor.encode(page.next)))
        }
        routes.get("/v1/presets/{id}") { request, context in
            let version = try request.query["version"].map { raw throws(HTTPError) -> Int in
                guard let version = Int(raw), version >= 1 else { throw HTTPError.invalidField("version", "must be a positive integer") }
                return version
            }
            let caller = try context.caller()
            return try .json(PresetResource(try await service.preset(id: try request.parameters.require("id"), version: version, caller: caller), for: caller))
        }
        routes.put("/v1/presets/{id}") { request, context in
            let input = try JSONBody.decode(PresetInput.self, from: request)
            let caller = try context.caller()
            return try .json(PresetResource(try await service.update(id: try request.parameters.require("id"), input, caller: caller), for: caller))
        }
        routes.delete("/v1/presets/{id}") { request, context in
            try await service.delete(id: try request.parameters.require("id"), caller: try context.caller())
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
    var sharedWithTeam: String?
    /// Whether this caller may change or delete it (its owner), or only read and run it (a team member).
    var editable: Bool
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, description, version, params, overridable, editable
        case sharedWithTeam = "shared_with_team"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ preset: Preset, for caller: Caller) {
        id = preset.id
        name = preset.name
        description = preset.description
        version = preset.version
        params = preset.params
        overridable = preset.overridable
        sharedWithTeam = preset.sharedWithTeam
        editable = preset.isEditable(by: caller)
        createdAt = APITime.format(preset.createdAt)
        updatedAt = APITime.format(preset.updatedAt)
    }

    /// `shared_with_team` is written as `null` when the preset is not shared, so clients see the whole shape.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(description, forKey: .description)
        try c.encode(version, forKey: .version)
        try c.encode(params, forKey: .params)
        try c.encode(overridable, forKey: .overridable)
        try c.encode(sharedWithTeam, forKey: .sharedWithTeam)
        try c.encode(editable, forKey: .editable)
        try c.encodeIfPresent(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(updatedAt, forKey: .updatedAt)
    }
}
