import MuseJSON
import MuseWorkerProtocol

/// The merge rule of docs/API.md: result = preset params ⊕ overrides. An override replaces the
/// preset's field whole (a `loras` override replaces the list). Overriding a field outside
/// `overridable` (when that list is not empty) is a 400 naming it; the result is then
/// validated exactly like a full request, by `ParamsResolver`.
public enum PresetMerge {
    /// The fields of a generation request, as spelled on the wire.
    public static let requestFields: [String] = GenerationParams.CodingKeys.allCases.map(\.stringValue)

    public static func merge(_ params: JSONValue, overrides: JSONValue?, overridable: [String]) throws(InvalidInput) -> JSONValue {
        guard case .object(var members) = params else { throw InvalidInput("params", "must be an object") }
        guard let overrides, overrides != .null else { return params }
        guard case .object(let changes) = overrides else { throw InvalidInput("overrides", "must be an object") }
        for change in changes {
            guard requestFields.contains(change.key) else { throw InvalidInput("overrides.\(change.key)", "unknown field") }
            guard overridable.isEmpty || overridable.contains(change.key) else {
                throw InvalidInput(
                    "overrides.\(change.key)", "this preset does not let \(change.key) be overridden; overridable: \(overridable.joined(separator: ", "))")
            }
            if let index = members.firstIndex(where: { $0.key == change.key }) {
                members[index].value = change.value
            } else {
                members.append(change)
            }
        }
        return .object(members)
    }

    /// Checks an `overridable` list: each entry must be a request field.
    public static func checkOverridable(_ fields: [String]) throws(InvalidInput) {
        for (i, field) in fields.enumerated() where !requestFields.contains(field) {
            throw InvalidInput("overridable[\(i)]", "\"\(field)\" is not a generation parameter")
        }
    }
}
