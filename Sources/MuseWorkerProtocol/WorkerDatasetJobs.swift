import MuseJSON

/// `POST {url}/v1/jobs` for `crop`, `tag` and `train` (docs/WORKER-PROTOCOL.md, "Dataset and
/// training jobs"): the kind's parameters, the dataset's images to fetch, and where to send what
/// the job makes.
public struct WorkerDatasetJob: Sendable, Codable {
    /// One image of the dataset: GET `url` with the worker token.
    public struct Image: Sendable, Codable, Equatable {
        public var id: String
        public var url: String
        public var contentType: String
        public var width: Int
        public var height: Int
        public var caption: String

        enum CodingKeys: String, CodingKey {
            case id, url, width, height, caption
            case contentType = "content_type"
        }

        public init(id: String, url: String, contentType: String, width: Int, height: Int, caption: String) {
            self.id = id
            self.url = url
            self.contentType = contentType
            self.width = width
            self.height = height
            self.caption = caption
        }
    }

    /// The checkpoint a resumed training starts from: GET `url` with the worker token.
    public struct Resume: Sendable, Codable, Equatable {
        public var step: Int
        public var url: String

        public init(step: Int, url: String) {
            self.step = step
            self.url = url
        }
    }

    public var attemptID: String
    public var kind: String
    /// crop: `width`, `height`, `mode`; tag: `trigger_word`; train: `base_model`, `base`,
    /// `trigger_word`, `output_name` and `params` (the training form's values, defaults filled in).
    public var params: JSONValue
    public var images: [Image]
    /// Progress, result, and for a training `/checkpoint?step=N` and `/artifact` (PUT, raw bytes);
    /// for a crop `/images/{image_id}` (PUT, the cropped PNG or JPEG).
    public var callbackURL: String
    public var resume: Resume?
    public var deadline: String?

    enum CodingKeys: String, CodingKey {
        case kind, params, images, resume, deadline
        case attemptID = "attempt_id"
        case callbackURL = "callback_url"
    }

    public init(
        attemptID: String, kind: String, params: JSONValue, images: [Image], callbackURL: String, resume: Resume?, deadline: String?
    ) {
        self.attemptID = attemptID
        self.kind = kind
        self.params = params
        self.images = images
        self.callbackURL = callbackURL
        self.resume = resume
        self.deadline = deadline
    }
}

/// `POST {callback_url}/result` of a dataset or training job.
public struct WorkerJobResult: Sendable, Codable {
    /// A tag job's caption for one image.
    public struct Caption: Sendable, Codable, Equatable {
        public var imageID: String
        public var caption: String

        enum CodingKeys: String, CodingKey {
            case caption
            case imageID = "image_id"
        }

        public init(imageID: String, caption: String) {
            self.imageID = imageID
            self.caption = caption
        }
    }

    /// A training's output, PUT to `/artifact` before this result.
    public struct Artifact: Sendable, Codable, Equatable {
        public var sha256: String
        public var size: Int
        public var upload: String?

        public init(sha256: String, size: Int, upload: String?) {
            self.sha256 = sha256
            self.size = size
            self.upload = upload
        }
    }

    public var status: AttemptStatus
    public var error: TaskError?
    public var captions: [Caption]?
    public var artifact: Artifact?
    /// Free-form numbers (final loss, seconds per step); kept as given, bounded by the body limit.
    public var metrics: JSONValue?

    public init(status: AttemptStatus, error: TaskError? = nil, captions: [Caption]? = nil, artifact: Artifact? = nil, metrics: JSONValue? = nil) {
        self.status = status
        self.error = error
        self.captions = captions
        self.artifact = artifact
        self.metrics = metrics
    }

    public func check() throws(InvalidInput) {
        guard status.isFinished else { throw InvalidInput("status", "must be succeeded, failed or canceled") }
        if let error {
            guard TaskError.isValidCode(error.code) else { throw InvalidInput("error.code", "1 to 64 characters of a-z, 0-9, '_'") }
            guard error.message.unicodeScalars.count <= TaskError.maxMessageScalars else {
                throw InvalidInput("error.message", "at most \(TaskError.maxMessageScalars) characters")
            }
        }
        for (i, caption) in (captions ?? []).enumerated() where caption.caption.unicodeScalars.count > 2000 {
            throw InvalidInput("captions[\(i)].caption", "at most 2000 characters")
        }
        if let artifact {
            guard artifact.sha256.utf8.count == 64, artifact.sha256.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw InvalidInput("artifact.sha256", "64 lowercase hex digits")
            }
            guard artifact.size > 0 else { throw InvalidInput("artifact.size", "must be positive") }
        }
    }
}
