import MuseJSON

extension InvalidInput: HTTPResponseError {
    /// A 400 `invalid_argument` listing each field at fault.
    public var http: HTTPError {
        HTTPError(.invalidArgument, detail: detail, errors: problems.map { FieldError(field: $0.field, message: $0.message) })
    }

    public var httpError: HTTPError? { http }
}
