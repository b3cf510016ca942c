import MuseCore
import MuseHTTP
import NIOCore

extension Response {
    /// A stored blob sent as it is read, 1 MiB at a time, with its `Content-Length`. A client that
    /// takes nothing for `stall` is cut off: a download it stopped reading holds a connection and
    /// an open file.
    static func blob(_ reader: any BlobReader, contentType: String, stall: Duration = .seconds(30)) -> Response {
        var response = Response(status: .ok)
        response.headerFields[.contentType] = contentType
        response.body = .sized(reader.size) { writer in
            try await reader.read(chunk: 1 << 20) { piece in try await writer.write(ByteBuffer(bytes: piece), timeout: stall) }
        }
        return response
    }
}
