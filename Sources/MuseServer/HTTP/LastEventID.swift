import HTTPTypes
import MuseHTTP

/// `Last-Event-ID` of an `/events` request: the sequence number to resume after (0 when absent).
enum LastEventID {
    static let header = HTTPField.Name("Last-Event-ID")!

    static func parse(_ request: Request) throws(HTTPError) -> Int64 {
        try request.head.headerFields[header].map { raw throws(HTTPError) -> Int64 in
            guard let seq = Int64(raw.trimmingCharacters(in: .whitespaces)), seq >= 0 else {
                throw HTTPError.invalidField("Last-Event-ID", "must be an event id this stream sent")
            }
            return seq
        } ?? 0
    }
}
