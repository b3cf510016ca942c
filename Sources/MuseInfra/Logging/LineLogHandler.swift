import Logging
import MuseCore

#if canImport(Glibc)
    import Glibc
#endif

/// One line per event: `2026-11-24T05:19:06.123Z info muse-cloud: GET /healthz 200 0.38ms request_id=… route=/healthz`,
/// UTC time, metadata as sorted `key=value`, handed to a `LogWriter`. Control characters in the
/// message, keys and values are escaped (`\n`, `\u{1b}`): a value from a request or a worker
/// cannot start a line of its own or drive a terminal.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let writer: LogWriter

    public init(label: String, level: Logger.Level, writer: LogWriter) {
        self.label = label
        self.logLevel = level
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = [UInt8]()
        line.reserveCapacity(192)
        Self.appendTimestamp(&line)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: label.utf8)
        line.append(contentsOf: ": ".utf8)
        Self.appendEscaped(event.message.description, to: &line)
        // The event's own metadata wins over the logger's for the same key.
        var pairs: [(key: String, value: Logger.MetadataValue)] = []
        pairs.reserveCapacity(metadata.count + (event.metadata?.count ?? 0))
        for (key, value) in metadata where event.metadata?[key] == nil { pairs.append((key, value)) }
        for (key, value) in event.metadata ?? [:] { pairs.append((key, value)) }
        pairs.sort { $0.key < $1.key }
        for pair in pairs {
            line.append(UInt8(ascii: " "))
            Self.appendEscaped(pair.key, to: &line)
            line.append(UInt8(ascii: "="))
            Self.appendEscaped(pair.value.description, to: &line)
        }
        line.append(UInt8(ascii: "\n"))
        writer.append(line, urgent: event.level >= .warning)
    }

    static func appendEscaped(_ text: String, to line: inout [UInt8]) {
        // The common case, nothing to escape, appends the bytes as they are.
        // (C1 controls start with byte 0xC2 in UTF-8, U+2028 and U+2029 with 0xE2.)
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }) else {
            line.append(contentsOf: text.utf8)
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": line.append(contentsOf: #"\n"#.utf8)
            case "\r": line.append(contentsOf: #"\r"#.utf8)
            case "\t": line.append(contentsOf: #"\t"#.utf8)
            case _ where isEscaped(scalar): line.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".utf8)
            default: line.append(contentsOf: String(scalar).utf8)
            }
        }
    }

    /// C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional
    /// controls (U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) that can make a line read reversed.
    private static func isEscaped(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x200E...0x200F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static func appendTimestamp(_ line: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = value
            while divisor > 0 {
                line.append(UInt8(ascii: "0") + UInt8(v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        line.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        line.append(UInt8(ascii: "."))
        digits(Int(now.tv_nsec) / 1_000_000, 3)
        line.append(UInt8(ascii: "Z"))
    }
}
