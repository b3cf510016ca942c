/// A path trie of static and `{param}` segments; a static segment wins over a parameter.
struct PathTrie<Value>: Sendable {
    // Written only while routes are registered, before the server starts; read-only after.
    final class Node: @unchecked Sendable {
        var statics: [Substring: Node] = [:]
        var parameter: (name: String, node: Node)?
        var value: Value?
    }

    let root = Node()

    /// Inserts at the pattern's node, creating it; returns the node for the caller to fill.
    func node(for pattern: String) -> Node {
        var node = root
        for segment in pattern.split(separator: "/") {
            if segment.hasPrefix("{"), segment.hasSuffix("}") {
                let name = String(segment.dropFirst().dropLast())
                if let existing = node.parameter {
                    precondition(existing.name == name, "route \(pattern): {\(name)} conflicts with {\(existing.name)}")
                    node = existing.node
                } else {
                    let child = Node()
                    node.parameter = (name, child)
                    node = child
                }
            } else if let child = node.statics[segment] {
                node = child
            } else {
                let child = Node()
                node.statics[segment] = child
                node = child
            }
        }
        return node
    }

    /// Finds the node for a concrete path, collecting parameter values.
    func lookup(_ segments: [Substring], parameters: inout Parameters) -> Value? {
        var node = root
        for segment in segments {
            if let child = node.statics[segment] {
                node = child
            } else if let (name, child) = node.parameter {
                parameters.append(name, segment)
                node = child
            } else {
                return nil
            }
        }
        return node.value
    }
}
