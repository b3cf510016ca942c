import Foundation

/// Standard Webhooks signing: `v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`, keyed with
/// the bytes behind the tenant's `whsec_<base64>` secret.
public struct WebhookSignature: Sendable {
    let digests: any Digests

    public init(digests: any Digests) {
        self.digests = digests
    }

    public func newSecret() -> String {
        "whsec_" + Data(digests.randomBytes(32)).base64EncodedString()
    }

    public func sign(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
        let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))).map { [UInt8]($0) } ?? Array(secret.utf8)
        let mac = digests.hmacSHA256(key: key, message: Array("\(id).\(timestamp).".utf8) + body)
        return "v1," + Data(mac).base64EncodedString()
    }
}
