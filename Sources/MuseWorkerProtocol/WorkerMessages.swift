import MuseJSON

/// The bodies of docs/WORKER-PROTOCOL.md that both sides write and read: the server sends jobs and
/// reads progress and results; a worker (the simulator) does the reverse.
public struct WorkerJob: Sendable, Codable {
    public var attemptID: String
    public var kind: String
    public var params: GenerationParams
    public var callbackURL: String
    public var deadline: String?

    enum CodingKeys: String, CodingKey {
        case kind, params, deadline
        case attemptID = "attempt_id"
        case callbackURL = "callback_url"
    }

    public init(attemptID: String, kind: String, params: GenerationParams, callbackURL: String, deadline: String?) {
        self.attemptID = attemptID
        self.kind = kind
        self.params = params
        self.callbackURL = callbackURL
        self.deadline = deadline
    }
}

/// `POST {callback_url}/progress`.
public struct WorkerProgress: Sendable, Codable {
    public var progress: Double
    public var step: Int?
    public var totalSteps: Int?
    /// A preview image (base64 PNG) a worker may send; accepted, not kept yet.
    public var preview: String?
    /// A training's loss at `step` (an extension of the protocol for `train` jobs).
    public var loss: Double?

    enum CodingKeys: String, CodingKey {
        case progress, step, preview, loss
        case totalSteps = "total_steps"
    }

    public init(progress: Double, step: Int?, totalSteps: Int?, loss: Double? = nil) {
        self.progress = progress
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
    }
}

/// Where a job's time went on the worker.
public struct WorkerTimings: Sendable, Codable, Equatable {
    public var queueMs: Int
    public var loadMs: Int
    public var inferMs: Int
    /// Encoding the images after inference (an extension of the protocol's timings; optional).
    public var encodeMs: Int?
    /// Wall-clock milliseconds (Unix) when the worker accepted the job and when it sent this
    /// result (optional extensions): with them a benchmark splits the server's overhead into
    /// push and callback time.
    public var acceptedAtMs: Int64?
    public var reportedAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case queueMs = "queue_ms"
        case loadMs = "load_ms"
        case inferMs = "infer_ms"
        case encodeMs = "encode_ms"
        case acceptedAtMs = "accepted_at_ms"
        case reportedAtMs = "reported_at_ms"
    }

    public init(queueMs: Int, loadMs: Int, inferMs: Int, encodeMs: Int? = nil) {
        self.queueMs = queueMs
        self.loadMs = loadMs
        self.inferMs = inferMs
        self.encodeMs = encodeMs
    }
}

/// `POST {callback_url}/result`.
public struct WorkerResult: Sendable, Codable {
    public struct Image: Sendable, Codable {
        public var pngBase64: String
        public var seed: Int64
        public var width: Int
        public var height: Int

        enum CodingKeys: String, CodingKey {
            case seed, width, height
            case pngBase64 = "png_base64"
        }

        public init(pngBase64: String, seed: Int64, width: Int, height: Int) {
            self.pngBase64 = pngBase64
            self.seed = seed
            self.width = width
            self.height = height
        }
    }

    public var status: AttemptStatus
    public var images: [Image]?
    public var error: TaskError?
    public var timings: WorkerTimings?

    public init(status: AttemptStatus, images: [Image]? = nil, error: TaskError? = nil, timings: WorkerTimings? = nil) {
        self.status = status
        self.images = images
        self.error = error
        self.timings = timings
    }
}

/// `GET {url}/v1/jobs/{attempt_id}`: the polling fallback when callbacks do not arrive.
public struct WorkerJobStatus: Sendable, Codable {
    public var status: AttemptStatus
    public var progress: Double
    /// The result a finished job would have called back with.
    public var result: WorkerResult?

    public init(status: AttemptStatus, progress: Double, result: WorkerResult? = nil) {
        self.status = status
        self.progress = progress
        self.result = result
    }
}

/// `POST {url}/v1/jobs` with several jobs: a batch.
public struct WorkerBatch: Sendable, Codable {
    public var jobs: [WorkerJob]

    public init(jobs: [WorkerJob]) {
        self.jobs = jobs
    }
}

/// The bounds openapi.yaml states for the worker protocol's bodies, checked on receipt.
extension WorkerProgress {
    public func check() throws(InvalidInput) {
        guard (0...1).contains(progress) else { throw InvalidInput("progress", "must be from 0 to 1") }
        for (name, value) in [("step", step), ("total_steps", totalSteps)] {
            if let value, !(0...1_000_000).contains(value) { throw InvalidInput(name, "must be from 0 to 1000000") }
        }
        if let loss, !(loss.isFinite && abs(loss) <= 1e9) { throw InvalidInput("loss", "must be a finite number of at most 1e9") }
    }
}

extension WorkerResult {
    public func check() throws(InvalidInput) {
        guard status.isFinished else {
            throw InvalidInput("status", "must be succeeded, failed or canceled")
        }
        if let error {
            guard TaskError.isValidCode(error.code) else { throw InvalidInput("error.code", "1 to 64 characters of a-z, 0-9, '_'") }
            guard error.message.unicodeScalars.count <= TaskError.maxMessageScalars else {
                throw InvalidInput("error.message", "at most \(TaskError.maxMessageScalars) characters")
            }
        }
        for (i, image) in (images ?? []).enumerated() {
            guard Self.isPaddedBase64(image.pngBase64) else { throw InvalidInput("images[\(i)].png_base64", "not base64") }
            guard (0...Int64(UInt32.max)).contains(image.seed) else { throw InvalidInput("images[\(i)].seed", "must be from 0 to \(UInt32.max)") }
            guard (1...16384).contains(image.width), (1...16384).contains(image.height) else {
                throw InvalidInput("images[\(i)]", "width and height must be from 1 to 16384")
            }
        }
        if let t = timings {
            for (name, value) in [("queue_ms", t.queueMs), ("load_ms", t.loadMs), ("infer_ms", t.inferMs), ("encode_ms", t.encodeMs ?? 0)]
            where !(0...Int(Int32.max)).contains(value) {
                throw InvalidInput("timings.\(name)", "must be from 0 to \(Int32.max)")
            }
            for (name, value) in [("accepted_at_ms", t.acceptedAtMs ?? 0), ("reported_at_ms", t.reportedAtMs ?? 0)]
            where !(0...9_007_199_254_740_991).contains(value) {
                throw InvalidInput("timings.\(name)", "must be Unix milliseconds")
            }
        }
    }

    /// Padded base64 without line breaks (RFC 4648; openapi.yaml's pattern), told by one scan
    /// without decoding: an image is decoded once, when it is stored.
    public static func isPaddedBase64(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard utf8.count % 4 == 0 else { return false }
        var padding = false
        for (offset, byte) in utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding { return false }
            case UInt8(ascii: "="):
                guard offset >= utf8.count - 2 else { return false }
                padding = true
            default:
                return false
            }
        }
        return true
    }
}
