import MuseCore
import MuseHTTP
import NIOCore

extension Response {
    /// A stored blob sent as it is read, 1 MiB at a time, with its `Content-Length`.
    static func blob(_ reader: any BlobReader, contentType: String) -> Response {
        var response = Response(status: .ok)
        response.headerFields[.contentType] = contentType
        response.body = .sized(reader.size) { writer in
            try await reader.read(chunk: 1 << 20) { piece in try await writer.write(ByteBuffer(bytes: piece)) }
        }
        return response
    }
}
