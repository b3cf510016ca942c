import MuseJSON

/// What a training job's `params` hold besides the form's values: the base checkpoint, the
/// LoRA's name and trigger word. Written at submit, read when the LoRA enters the catalogue.
public struct TrainingSpec: Sendable, Equatable {
    public let baseModel: String
    public let base: BaseModel
    public let outputName: String
    public let triggerWord: String
    /// The training form's values, defaults filled in.
    public let form: [(key: String, value: JSONValue)]

    public init(baseModel: String, base: BaseModel, outputName: String, triggerWord: String, form: [(key: String, value: JSONValue)]) {
        self.baseModel = baseModel
        self.base = base
        self.outputName = outputName
        self.triggerWord = triggerWord
        self.form = form
    }

    public static func == (a: TrainingSpec, b: TrainingSpec) -> Bool {
        a.baseModel == b.baseModel && a.base == b.base && a.outputName == b.outputName && a.triggerWord == b.triggerWord
            && a.form.map(\.key) == b.form.map(\.key) && a.form.map(\.value) == b.form.map(\.value)
    }

    /// The form's `steps`: how many a worker may report and checkpoint.
    public var steps: Int? {
        guard case .number(let text)? = form.last(where: { $0.key == "steps" })?.value, let steps = Double(text) else { return nil }
        return Int(steps)
    }

    /// The job's `params` as the worker receives them.
    public var params: JSONValue {
        .object([
            ("base_model", .string(baseModel)), ("base", .string(base.rawValue)), ("output_name", .string(outputName)),
            ("trigger_word", .string(triggerWord)), ("params", .object(form)),
        ])
    }

    /// Reads what `params` wrote (a job's stored params).
    public init(_ params: JSONValue) {
        func text(_ key: String) -> String {
            if case .string(let s)? = params[member: key] { return s }
            return ""
        }
        baseModel = text("base_model")
        base = BaseModel(rawValue: text("base")) ?? .sd15
        outputName = text("output_name")
        triggerWord = text("trigger_word")
        if case .object(let members)? = params[member: "params"] { form = members } else { form = [] }
    }

    /// The catalogue key of the LoRA a training makes: its name in lowercase letters, digits and
    /// dashes, then the end of the job id (unique, and the same for a repeated result).
    public static func modelKey(outputName: String, jobID: String) -> String {
        var slug = ""
        for scalar in outputName.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.hasSuffix("-"), !slug.isEmpty {
                slug += "-"
            }
            if slug.count >= 40 { break }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return (slug.isEmpty ? "lora" : slug) + "-" + String(jobID.suffix(8))
    }
}
