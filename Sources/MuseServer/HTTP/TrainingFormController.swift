import MuseCore
import MuseHTTP
import MuseJSON

/// `GET /v1/training/form?base=sd15|sdxl`: the form clients render for a training's `params`,
/// the same definition `POST /v1/trainings` checks them against.
public struct TrainingFormController: Sendable {
    let forms: [BaseModel: TrainingForm]

    public init(forms: [BaseModel: TrainingForm]) {
        self.forms = forms
    }

    public func register(on routes: RouteGroup) {
        routes.get("/v1/training/form") { request, context in
            _ = try context.caller()
            let bases = BaseModel.allCases.map(\.rawValue).joined(separator: ", ")
            guard let raw = request.query["base"] else { throw HTTPError.invalidField("base", "required: one of \(bases)") }
            guard let base = BaseModel(rawValue: raw), let form = forms[base] else { throw HTTPError.invalidField("base", "must be one of \(bases)") }
            return try .json(FormResource(form))
        }
    }
}

/// The form as served: its base and its fields in order.
struct FormResource: Encodable {
    struct Field: Encodable {
        let key: String
        let type: String
        let `default`: JSONValue
        let minimum: Double?
        let maximum: Double?
        let choices: [JSONValue]?
        let label: String
        let help: String

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key, forKey: .key)
            try c.encode(type, forKey: .type)
            try c.encode(`default`, forKey: .default)
            try c.encode(minimum, forKey: .minimum)
            try c.encode(maximum, forKey: .maximum)
            try c.encode(choices, forKey: .choices)
            try c.encode(label, forKey: .label)
            try c.encode(help, forKey: .help)
        }

        enum CodingKeys: String, CodingKey { case key, type, `default`, minimum, maximum, choices, label, help }
    }

    let base: String
    let fields: [Field]

    init(_ form: TrainingForm) {
        base = form.base.rawValue
        fields = form.fields.map {
            Field(
                key: $0.key, type: $0.kind.rawValue, default: $0.defaultValue, minimum: $0.minimum, maximum: $0.maximum, choices: $0.choices, label: $0.label,
                help: $0.help)
        }
    }
}
