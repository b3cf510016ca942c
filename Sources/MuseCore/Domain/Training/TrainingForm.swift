import MuseJSON

/// The training parameters one base model takes: what `GET /v1/training/form` serves for clients
/// to render, and what `POST /v1/trainings` checks its `params` against. One definition, from
/// config (`config/training.yaml`), for both.
public struct TrainingForm: Sendable, Equatable {
    /// One parameter: its type, default, range or choices, and what to tell a person about it.
    public struct Field: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case integer, number, boolean, string
        }

        public let key: String
        public let kind: Kind
        public let defaultValue: JSONValue
        public let minimum: Double?
        public let maximum: Double?
        /// The only values allowed, when set (a string field must have them).
        public let choices: [JSONValue]?
        public let label: String
        public let help: String

        public init(
            key: String, kind: Kind, defaultValue: JSONValue, minimum: Double? = nil, maximum: Double? = nil, choices: [JSONValue]? = nil, label: String,
            help: String
        ) {
            self.key = key
            self.kind = kind
            self.defaultValue = defaultValue
            self.minimum = minimum
            self.maximum = maximum
            self.choices = choices
            self.label = label
            self.help = help
        }

        /// Why `value` is not allowed here, or nil when it is.
        public func problem(with value: JSONValue) -> String? {
            switch (kind, value) {
            case (.boolean, .bool), (.string, .string): break
            case (.integer, .number(let text)):
                guard let number = Double(text), number == number.rounded(), abs(number) <= 9_007_199_254_740_992 else { return "must be an integer" }
            case (.number, .number(let text)):
                guard let number = Double(text), number.isFinite else { return "must be a finite number" }
            default: return "must be \(kind == .integer ? "an integer" : kind == .boolean ? "a boolean" : "a \(kind.rawValue)")"
            }
            if case .number(let text) = value, let number = Double(text) {
                if let minimum, number < minimum { return "must be at least \(Self.text(minimum))" }
                if let maximum, number > maximum { return "must be at most \(Self.text(maximum))" }
            }
            if let choices, !choices.contains(value) { return "must be one of \(choices.map(Self.text).joined(separator: ", "))" }
            return nil
        }

        static func text(_ number: Double) -> String {
            number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        }

        static func text(_ value: JSONValue) -> String {
            switch value {
            case .string(let s): s
            case .number(let n): n
            case .bool(let b): String(b)
            default: "\(value)"
            }
        }
    }

    public let base: BaseModel
    public let fields: [Field]

    public init(base: BaseModel, fields: [Field]) {
        self.base = base
        self.fields = fields
    }

    /// `params` with every field present (defaults filled in), in the form's order. An unknown
    /// field, a value of the wrong type or out of range is 400 naming `params.<key>`.
    public func resolve(_ params: JSONValue?) throws(InvalidInput) -> [(key: String, value: JSONValue)] {
        let given: [(key: String, value: JSONValue)]
        switch params {
        case nil, .null?: given = []
        case .object(let members)?: given = members
        default: throw InvalidInput("params", "must be an object")
        }
        var problems: [InvalidInput.Problem] = []
        for (key, _) in given where !fields.contains(where: { $0.key == key }) {
            problems.append(
                .init(field: "params.\(key)", message: "is not a \(base.rawValue) training parameter (GET /v1/training/form?base=\(base.rawValue))"))
        }
        var resolved: [(key: String, value: JSONValue)] = []
        for field in fields {
            guard let value = given.last(where: { $0.key == field.key })?.value else {
                resolved.append((field.key, field.defaultValue))
                continue
            }
            if let problem = field.problem(with: value) {
                problems.append(.init(field: "params.\(field.key)", message: problem))
            } else {
                resolved.append((field.key, value))
            }
        }
        guard problems.isEmpty else { throw InvalidInput(problems: problems) }
        return resolved
    }
}
