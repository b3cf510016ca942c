import HTTPTypes

/// The `code` values of docs/API.md (a closed list), each with the HTTP status it answers with by default.
/// A 405 is `invalid_argument` with status 405; oversized headers are `payload_too_large` with 431.
public enum ErrorCode: String, Sendable, Codable {
    case invalidArgument = "invalid_argument"
    case unauthenticated
    case permissionDenied = "permission_denied"
    case notFound = "not_found"
    case conflict
    case payloadTooLarge = "payload_too_large"
    case unsupportedMediaType = "unsupported_media_type"
    case rateLimited = "rate_limited"
    case quotaExceeded = "quota_exceeded"
    case unavailable
    case `internal`

    /// The status this code answers with when the error names none.
    public var defaultStatus: HTTPResponse.Status {
        switch self {
        case .invalidArgument: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rateLimited, .quotaExceeded: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }
}
