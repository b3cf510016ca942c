import HTTPTypes
import NIOCore

/// The RFC 9457 body of an `HTTPError`.
struct ProblemDocument: Encodable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var code: String
    var errors: [FieldError]?

    init(_ error: HTTPError) {
        type = "https://muse.dev/problems/\(error.code.rawValue)"
        title = error.status.reasonPhrase
        status = error.status.code
        detail = error.detail
        code = error.code.rawValue
        errors = error.errors.isEmpty ? nil : error.errors
    }

    func encoded() -> ByteBuffer {
        // Encoding a struct of strings and ints cannot fail.
        (try? JSONBody.encode(self)) ?? ByteBuffer(string: #"{"code":"internal","status":500}"#)
    }
}
