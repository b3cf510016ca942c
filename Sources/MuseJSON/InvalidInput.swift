/// Input that does not fit its type or its rules: the fields at fault, each with what is wrong,
/// or (with no fields) the document as a whole. The HTTP adapter answers it with a 400.
public struct InvalidInput: Error, Sendable, Equatable {
    /// One field and what is wrong with it; `field` is a path such as `loras[0].key`.
    public struct Problem: Sendable, Equatable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var problems: [Problem]
    public var detail: String

    /// One field at fault.
    public init(_ field: String, _ message: String) {
        self.init(problems: [Problem(field: field, message: message)])
    }

    /// Several fields at fault; the detail names the first.
    public init(problems: [Problem]) {
        self.problems = problems
        detail = problems.first.map { "\($0.field): \($0.message)" } ?? "invalid input"
    }

    /// The document as a whole (malformed JSON, a body of the wrong shape).
    public init(detail: String) {
        problems = []
        self.detail = detail
    }

    /// The same problems with their fields named under `parent` (`steps` → `params.steps`), for
    /// a value checked as part of a larger one.
    public func nested(under parent: String) -> InvalidInput {
        guard !problems.isEmpty else { return self }
        return InvalidInput(
            problems: problems.map { Problem(field: $0.field.hasPrefix("[") ? parent + $0.field : "\(parent).\($0.field)", message: $0.message) })
    }
}
