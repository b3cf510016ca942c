import HTTPTypes

extension HTTPRequest {
    /// The token of `Authorization: Bearer <token>`: the scheme matched case-insensitively
    /// (RFC 9110 §11.1), then one or more spaces; nil without a non-empty token.
    public var bearerToken: Substring? {
        guard let value = headerFields[.authorization] else { return nil }
        let scheme = value.prefix(while: { $0 != " " })
        guard scheme.lowercased() == "bearer" else { return nil }
        let token = value[scheme.endIndex...].drop(while: { $0 == " " })
        return token.isEmpty ? nil : token
    }
}
