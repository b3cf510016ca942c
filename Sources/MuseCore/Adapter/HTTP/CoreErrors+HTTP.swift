import MuseHTTP

/// The one place the core's refusals become HTTP answers (`InvalidInput` answers 400 in MuseHTTP).
extension ServiceError: HTTPResponseError {
    public var httpError: HTTPError? {
        switch self {
        case .notFound(let detail): HTTPError(.notFound, detail: detail)
        case .conflict(let detail): HTTPError(.conflict, detail: detail)
        case .mismatch(let detail): HTTPError(.invalidArgument, status: .unprocessableContent, detail: detail)
        case .rateLimited(let detail, let seconds): HTTPError(.rateLimited, detail: detail, headers: [.retryAfter: String(seconds)])
        }
    }
}
