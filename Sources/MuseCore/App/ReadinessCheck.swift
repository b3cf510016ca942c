/// Something `/readyz` must find healthy (a store, a broker) besides the server not draining.
public protocol ReadinessCheck: Sendable {
    var name: String { get }
    func isReady() async -> Bool
}
