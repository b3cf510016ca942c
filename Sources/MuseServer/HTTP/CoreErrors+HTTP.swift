import MuseCore
import MuseHTTP
import MuseInfra

/// The one place where refusals of the core and faults of the infrastructure become HTTP
/// answers (`InvalidInput` answers 400 in MuseHTTP itself).
extension ServiceError: HTTPResponseError {
    public var httpError: HTTPError? {
        switch self {
        case .notFound(let detail): HTTPError(.notFound, detail: detail)
        case .forbidden(let detail): HTTPError(.permissionDenied, detail: detail)
        case .conflict(let detail): HTTPError(.conflict, detail: detail)
        case .mismatch(let detail): HTTPError(.invalidArgument, status: .unprocessableContent, detail: detail)
        case .quotaExceeded(let detail): HTTPError(.quotaExceeded, detail: detail)
        case .rateLimited(let detail, let seconds): HTTPError(.rateLimited, detail: detail, headers: [.retryAfter: String(seconds)])
        }
    }
}

/// A storage fault is 503 with `Retry-After`: the client did nothing wrong and may retry.
/// Any other store error stays a 500.
extension SQLiteError: HTTPResponseError {
    public var httpError: HTTPError? {
        storageCondition.map { HTTPError(.unavailable, detail: "storage is \($0); retry shortly", headers: [.retryAfter: "1"]) }
    }
}

extension BlobStoreError: HTTPResponseError {
    public var httpError: HTTPError? {
        guard isStorageFault else { return nil }
        return HTTPError(.unavailable, detail: "storage is full or failing; retry shortly", headers: [.retryAfter: "1"])
    }
}
