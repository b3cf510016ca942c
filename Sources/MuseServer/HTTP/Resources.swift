import Foundation
import MuseCore
import MuseHTTP
import MuseInfra
import MuseWorkerProtocol

/// `{"data": [...], "next_cursor": "…"|null}`.
public struct ListResource<Item: Encodable>: Encodable {
    var data: [Item]
    var nextCursor: String?

    public init(data: [Item], nextCursor: String?) {
        self.data = data
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}

/// List cursors: the id of the last item shown (ids sort by creation time). Anything that is
/// not an id of the list's kind is a 400, so the format is exact enough for OpenAPI to state.
public enum Cursor {
    public static func encode(_ id: String?) -> String? {
        id
    }

    /// `?limit=`: 1 to 100, 20 when absent.
    public static func limit(_ raw: String?) throws(HTTPError) -> Int {
        guard let raw else { return 20 }
        guard let limit = Int(raw), (1...100).contains(limit) else { throw HTTPError.invalidField("limit", "must be an integer from 1 to 100") }
        return limit
    }

    public static func decode(_ cursor: String?, prefix: String) throws(HTTPError) -> String? {
        guard let cursor else { return nil }
        guard IDGenerator.isID(cursor, prefix: prefix) else {
            throw HTTPError.invalidField("cursor", "not a cursor this API returned")
        }
        return cursor
    }
}

/// The task object of docs/API.md.
struct TaskResource: Encodable {
    struct Image: Encodable {
        var id: String
        var url: String
        var width: Int
        var height: Int
        var seed: Int64
    }

    var id: String
    var status: TaskStatus
    var progress: Double
    var queuePosition: Int?
    var estimatedStartAt: String?
    var params: GenerationParams
    var preset: PresetRef?
    var images: [Image]
    var error: TaskError?
    var attempts: Int
    var createdAt: String?
    var startedAt: String?
    var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, status, progress, params, preset, images, error, attempts
        case queuePosition = "queue_position"
        case estimatedStartAt = "estimated_start_at"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    init(_ view: TaskView) {
        let task = view.task
        id = task.id
        status = task.status
        progress = task.progress
        queuePosition = view.queuePosition
        estimatedStartAt = APITime.format(view.estimatedStartAt)
        params = task.params
        preset = task.preset
        images = task.images.map { Image(id: $0.id, url: "/v1/images/\($0.id)", width: $0.width, height: $0.height, seed: $0.seed) }
        error = task.error
        attempts = task.attempts
        createdAt = APITime.format(task.createdAt)
        startedAt = APITime.format(task.startedAt)
        finishedAt = APITime.format(task.finishedAt)
    }

    /// Every field is written, `null` included, so clients see the whole shape.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(progress, forKey: .progress)
        try c.encode(queuePosition, forKey: .queuePosition)
        try c.encode(estimatedStartAt, forKey: .estimatedStartAt)
        try c.encode(params, forKey: .params)
        try c.encode(preset, forKey: .preset)
        try c.encode(images, forKey: .images)
        try c.encode(error, forKey: .error)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
    }
}

/// A catalogue entry as `GET /v1/models` shows it.
struct ModelResource: Encodable {
    var key: String
    var name: String
    var type: ModelKind
    var baseModel: BaseModel
    var source: ModelSource
    var version: String
    var triggerWords: [String]
    var defaultParams: ModelDefaults
    var minSize: Int
    var maxSize: Int
    var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case key, name, type, source, version
        case baseModel = "base_model"
        case triggerWords = "trigger_words"
        case defaultParams = "default_params"
        case minSize = "min_size"
        case maxSize = "max_size"
        case createdAt = "created_at"
    }

    init(_ model: Model) {
        key = model.key
        name = model.name
        type = model.kind
        baseModel = model.base
        source = model.source
        version = model.version
        triggerWords = model.triggerWords
        defaultParams = model.defaultParams
        minSize = model.minSize
        maxSize = model.maxSize
        createdAt = APITime.format(model.createdAt)
    }
}
