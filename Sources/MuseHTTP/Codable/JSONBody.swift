import Foundation
import HTTPTypes
import MuseJSON
import NIOCore

/// Request bodies in and response bodies out, in the wire format of docs/API.md.
public enum JSONBody {
    /// Decodes a JSON request body: 415 unless `Content-Type` is `application/json`,
    /// 400 naming the field for malformed JSON, wrong types, missing or unknown fields.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request) throws(HTTPError) -> T {
        try requireJSON(request)
        do {
            return try JSON.decode(type, from: Array(buffer: request.body))
        } catch {
            throw error.http
        }
    }

    /// The request body as a JSON value, for bodies whose shape depends on their content:
    /// 415 unless JSON, 400 when malformed.
    public static func value(from request: Request) throws(HTTPError) -> JSONValue {
        try requireJSON(request)
        do {
            return try JSON.parse(Array(buffer: request.body))
        } catch {
            throw error.http
        }
    }

    /// Encodes a value; wire types spell their snake_case keys in `CodingKeys`.
    public static func encode<T: Encodable>(_ value: T) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSON.encode(value))
    }

    private static func requireJSON(_ request: Request) throws(HTTPError) {
        guard isJSON(request.head.headerFields[.contentType]) else {
            throw HTTPError(.unsupportedMediaType, detail: "Content-Type must be application/json")
        }
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }
}
