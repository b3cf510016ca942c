import Foundation
import MuseJSON

/// Checks webhook URLs against the target policy, on submit and again before each try (a
/// name may resolve elsewhere later); the address checked is the one the sender then calls.
public struct WebhookTargets: Sendable {
    public struct Target: Sendable {
        public var host: String
        public var port: Int
        public var address: [UInt8]
    }

    let policy: WebhookTargetPolicy
    let resolver: any HostResolver

    public init(policy: WebhookTargetPolicy, resolver: any HostResolver) {
        self.policy = policy
        self.resolver = resolver
    }

    /// The target to call; a 400 naming `webhook_url` when the URL is not allowed.
    public func check(_ url: String) async throws(InvalidInput) -> Target {
        guard url.utf8.count <= 2048, let (host, port) = HTTPTarget.parse(url) else {
            throw InvalidInput("webhook_url", "must be an absolute http or https URL")
        }

        let addresses: [[UInt8]]
        do {
            addresses = try await resolver.addresses(of: host)
        } catch {
            throw InvalidInput("webhook_url", "the host \"\(host)\" does not resolve")
        }
        guard !addresses.isEmpty else { throw InvalidInput("webhook_url", "the host \"\(host)\" does not resolve") }
        // Every address must pass: a name with one public and one private address is refused.
        for address in addresses {
            if let reason = policy.refusal(host: host, address: address) {
                throw InvalidInput("webhook_url", "\"\(host)\" resolves to \(reason); list it in webhooks.allowed_hosts to allow it")
            }
        }
        if let reason = policy.refusal(host: host, port: port, addresses: addresses) {
            throw InvalidInput("webhook_url", "\(reason) is not allowed")
        }
        return Target(host: host, port: port, address: addresses[0])
    }
}
