/// The values of a route's `{param}` segments, by name.
public struct Parameters: Sendable {
    private var pairs: [(name: String, value: Substring)] = []

    public init() {}

    mutating func append(_ name: String, _ value: Substring) {
        pairs.append((name, value))
    }

    public subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }.map { String($0.value) }
    }

    /// The parameter, or a 404: a path that routes but names nothing.
    public func require(_ name: String) throws(HTTPError) -> String {
        guard let value = self[name], !value.isEmpty else { throw HTTPError.notFound() }
        return value
    }
}
