import Foundation

/// Standard Webhooks signing: `v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`, keyed with
/// the bytes behind the tenant's `whsec_<base64>` secret.
public enum WebhookSignature {
    public static func newSecret() -> String {
        "whsec_" + Data(Digest.randomBytes(32)).base64EncodedString()
    }

    public static func sign(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
        let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))).map { [UInt8]($0) } ?? Array(secret.utf8)
        let mac = Digest.hmacSHA256(key: key, message: Array("\(id).\(timestamp).".utf8) + body)
        return "v1," + Data(mac).base64EncodedString()
    }
}
