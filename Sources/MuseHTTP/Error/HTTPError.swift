import HTTPTypes
import NIOCore

/// One problem with one field of a request, as listed in a problem's `errors`.
public struct FieldError: Sendable, Equatable, Codable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// An error that knows its HTTP answer: an RFC 9457 problem with one of docs/API.md's codes.
public struct HTTPError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: ErrorCode
    public var detail: String
    public var errors: [FieldError]
    public var headers: HTTPFields

    public init(
        _ code: ErrorCode,
        status: HTTPResponse.Status? = nil,
        detail: String,
        errors: [FieldError] = [],
        headers: HTTPFields = [:]
    ) {
        self.code = code
        self.status = status ?? code.defaultStatus
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    /// A 400 naming one field.
    public static func invalidField(_ field: String, _ message: String) -> HTTPError {
        HTTPError(.invalidArgument, detail: "\(field): \(message)", errors: [FieldError(field: field, message: message)])
    }

    public static func notFound(_ detail: String = "no such resource") -> HTTPError {
        HTTPError(.notFound, detail: detail)
    }

    /// The problem+json response for this error.
    public var response: Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headerFields: fields, body: .buffer(ProblemDocument(self).encoded()))
    }
}
