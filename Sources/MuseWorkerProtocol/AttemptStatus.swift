/// Where an attempt stands on its worker: a job's `status` (`GET /v1/jobs/{attempt_id}`) and a
/// result's (only the finished three).
public enum AttemptStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, canceled

    /// The attempt is over on the worker: a result exists.
    public var isFinished: Bool { self == .succeeded || self == .failed || self == .canceled }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let status = AttemptStatus(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        self = status
    }
}
