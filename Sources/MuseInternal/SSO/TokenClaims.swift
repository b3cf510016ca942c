import JWTKit

/// A token's claims as JSON values, whatever their names: the config maps them to a principal.
/// jwt-kit decodes them only after the signature is verified.
struct TokenClaims: JWTPayload {
    enum Value: Sendable, Decodable {
        case string(String)
        case number(Double)
        case strings([String])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let list = try? container.decode([String].self) {
                self = .strings(list)
            } else {
                self = .other
            }
        }
    }

    struct Name: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let values: [String: Value]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Name.self)
        var values: [String: Value] = [:]
        for key in container.allKeys.prefix(256) { values[key.stringValue] = try container.decode(Value.self, forKey: key) }
        self.values = values
    }

    /// Never encoded: this server signs only development tokens, with `DevToken`.
    func encode(to encoder: any Encoder) throws {}

    /// Time, issuer and audience are checked by `TokenVerifier` against the config.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    func string(_ name: String) -> String? {
        if case .string(let value)? = values[name] { return value }
        return nil
    }

    func number(_ name: String) -> Double? {
        if case .number(let value)? = values[name] { return value }
        return nil
    }

    /// A claim that is a list of strings, or one string.
    func strings(_ name: String) -> [String]? {
        switch values[name] {
        case .strings(let list)?: list
        case .string(let one)?: [one]
        default: nil
        }
    }
}
