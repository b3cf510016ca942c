/// What an uploaded file is, read from its bytes rather than from what the client declared:
/// the format from its signature, the dimensions from its header (PNG `IHDR`, JPEG `SOFn`), and
/// a walk over its chunks or segments so that a truncated file or a header glued to garbage is
/// refused before anything is stored. Nothing is decoded: a 10,000×10,000 header costs a few bytes.
public enum ImageProbe {
    public enum Format: String, Sendable {
        case png
        case jpeg

        public var contentType: String { self == .png ? "image/png" : "image/jpeg" }
        public var fileExtension: String { self == .png ? "png" : "jpg" }
    }

    /// Format and size of a well-formed image.
    public struct Info: Sendable, Equatable {
        public let format: Format
        public let width: Int
        public let height: Int

        public init(format: Format, width: Int, height: Int) {
            self.format = format
            self.width = width
            self.height = height
        }
    }

    /// Why the bytes are not an image we take.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case empty
        case unknownFormat
        case malformed(String)

        public var description: String {
            switch self {
            case .empty: "the body is empty"
            case .unknownFormat: "the body is neither a PNG nor a JPEG (by its first bytes)"
            case .malformed(let why): why
            }
        }
    }

    /// The format by signature alone.
    public static func format(of bytes: some RandomAccessCollection<UInt8>) -> Format? {
        if bytes.count >= 8, zip(bytes.prefix(8), PNGHeader.signature).allSatisfy({ $0 == $1 }) { return .png }
        if bytes.count >= 3, Array(bytes.prefix(3)) == [0xFF, 0xD8, 0xFF] { return .jpeg }
        return nil
    }

    public static func inspect(_ bytes: [UInt8]) throws(Failure) -> Info {
        guard !bytes.isEmpty else { throw .empty }
        switch format(of: bytes) {
        case .png: return try png(bytes)
        case .jpeg: return try jpeg(bytes)
        case nil: throw .unknownFormat
        }
    }

    private static func uint32(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
    }

    private static func uint16(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) << 8 | Int(b[at + 1])
    }

    /// Signature, `IHDR` first (13 bytes), at least one `IDAT`, and `IEND` as the last chunk, every
    /// chunk's length within the file.
    private static func png(_ b: [UInt8]) throws(Failure) -> Info {
        var at = 8
        var size: (Int, Int)?
        var sawData = false
        while at + 12 <= b.count {
            let length = uint32(b, at)
            let type = String(decoding: b[(at + 4)..<(at + 8)], as: UTF8.self)
            guard length <= b.count - at - 12 else { throw .malformed("PNG chunk \(type) runs past the end of the file") }
            if size == nil {
                guard type == "IHDR", length == 13 else { throw .malformed("a PNG starts with its IHDR chunk") }
                size = (uint32(b, at + 8), uint32(b, at + 12))
            }
            if type == "IDAT" { sawData = true }
            at += 12 + length
            if type == "IEND" {
                guard at == b.count else { throw .malformed("bytes after the PNG's IEND chunk") }
                guard sawData, let (width, height) = size else { throw .malformed("a PNG without image data") }
                guard width > 0, height > 0 else { throw .malformed("a PNG of zero width or height") }
                return Info(format: .png, width: width, height: height)
            }
        }
        throw .malformed("the PNG ends before its IEND chunk")
    }

    /// Segments from SOI to the first frame header (`SOF0`–`SOF15` but DHT, JPG and DAC); the
    /// file must end with EOI.
    private static func jpeg(_ b: [UInt8]) throws(Failure) -> Info {
        guard b.count >= 4, b[b.count - 2] == 0xFF, b[b.count - 1] == 0xD9 else { throw .malformed("the JPEG does not end with its EOI marker") }
        var at = 2
        while at + 4 <= b.count {
            guard b[at] == 0xFF else { throw .malformed("a JPEG segment without its 0xFF marker") }
            let marker = b[at + 1]
            if marker == 0xFF {
                at += 1  // fill byte
                continue
            }
            let length = uint16(b, at + 2)
            guard length >= 2, at + 2 + length <= b.count else { throw .malformed("JPEG segment 0x\(String(marker, radix: 16)) runs past the end of the file") }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard length >= 7 else { throw .malformed("a JPEG frame header too short") }
                let height = uint16(b, at + 5)
                let width = uint16(b, at + 7)
                guard width > 0, height > 0 else { throw .malformed("a JPEG of zero width or height") }
                return Info(format: .jpeg, width: width, height: height)
            }
            guard marker != 0xDA, marker != 0xD9 else { break }
            at += 2 + length
        }
        throw .malformed("a JPEG without a frame header")
    }
}
