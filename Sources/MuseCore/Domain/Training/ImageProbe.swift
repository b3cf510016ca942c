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
        try bytes.withUnsafeBytes { buffer in Result { () throws(Failure) -> Info in try inspect(buffer) } }.get()
    }

    /// Over bytes in place: an upload is checked where it was written, not copied into memory.
    public static func inspect(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Info {
        guard !bytes.isEmpty else { throw .empty }
        switch format(of: bytes) {
        case .png: return try png(bytes)
        case .jpeg: return try jpeg(bytes)
        case nil: throw .unknownFormat
        }
    }

    private static func uint32(_ b: UnsafeRawBufferPointer, _ at: Int) -> Int {
        Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
    }

    private static func uint16(_ b: UnsafeRawBufferPointer, _ at: Int) -> Int {
        Int(b[at]) << 8 | Int(b[at + 1])
    }

    /// Signature, `IHDR` first (13 bytes, with a valid bit depth and colour type) and once, every
    /// chunk's length within the file and its CRC right, no unknown critical chunk, at least one
    /// `IDAT`, and an empty `IEND` as the last chunk.
    private static func png(_ b: UnsafeRawBufferPointer) throws(Failure) -> Info {
        var at = 8
        var size: (Int, Int)?
        var sawData = false
        while at + 12 <= b.count {
            let length = uint32(b, at)
            let typeBytes = b[(at + 4)..<(at + 8)]
            guard typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
                throw .malformed("a PNG chunk type that is not four letters")
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= b.count - at - 12 else { throw .malformed("PNG chunk \(type) runs past the end of the file") }
            guard CRC32.of(UnsafeRawBufferPointer(rebasing: b[(at + 4)..<(at + 8 + length)])) == UInt32(uint32(b, at + 8 + length)) else {
                throw .malformed("PNG chunk \(type) fails its CRC")
            }
            if size == nil {
                guard type == "IHDR", length == 13 else { throw .malformed("a PNG starts with its IHDR chunk") }
                try checkHeader(Array(b[(at + 16)..<(at + 21)]))
                size = (uint32(b, at + 8), uint32(b, at + 12))
            } else if type == "IHDR" {
                throw .malformed("a second IHDR chunk")
            }
            // A critical chunk (upper-case first letter) this format does not define cannot be skipped by a decoder.
            if typeBytes.first! < 97, !["IHDR", "PLTE", "IDAT", "IEND"].contains(type) { throw .malformed("an unknown critical PNG chunk \(type)") }
            if type == "IDAT" { sawData = true }
            at += 12 + length
            if type == "IEND" {
                guard length == 0 else { throw .malformed("an IEND chunk with data") }
                guard at == b.count else { throw .malformed("bytes after the PNG's IEND chunk") }
                guard sawData, let (width, height) = size else { throw .malformed("a PNG without image data") }
                guard width > 0, height > 0 else { throw .malformed("a PNG of zero width or height") }
                return Info(format: .png, width: width, height: height)
            }
        }
        throw .malformed("the PNG ends before its IEND chunk")
    }

    /// Bit depth and colour type (a combination the format allows), compression, filter, interlace.
    private static func checkHeader(_ h: [UInt8]) throws(Failure) {
        let allowed: [UInt8: Set<UInt8>] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard allowed[h[1]]?.contains(h[0]) == true else { throw .malformed("a PNG bit depth \(h[0]) with colour type \(h[1])") }
        guard h[2] == 0, h[3] == 0, h[4] <= 1 else { throw .malformed("a PNG compression, filter or interlace method that does not exist") }
    }

    /// Segments from SOI: exactly one frame header (baseline, extended or progressive Huffman:
    /// `SOF0`–`SOF2`; others are refused as decoders rarely read them) with its precision and
    /// components, then scans, to an EOI that is the file's last two bytes.
    private static func jpeg(_ b: UnsafeRawBufferPointer) throws(Failure) -> Info {
        var at = 2
        var size: (Int, Int)?
        var sawScan = false
        while at + 2 <= b.count {
            guard b[at] == 0xFF else { throw .malformed("a JPEG segment without its 0xFF marker") }
            let marker = b[at + 1]
            switch marker {
            case 0xFF:
                at += 1  // fill byte
                continue
            case 0xD9:
                guard at + 2 == b.count else { throw .malformed("bytes after the JPEG's EOI marker") }
                guard let (width, height) = size else { throw .malformed("a JPEG without a frame header") }
                guard sawScan else { throw .malformed("a JPEG without image data (no scan)") }
                return Info(format: .jpeg, width: width, height: height)
            case 0xD0...0xD7, 0x01:
                at += 2  // markers without a length
                continue
            default: break
            }
            guard at + 4 <= b.count else { throw .malformed("the JPEG ends inside a segment") }
            let length = uint16(b, at + 2)
            guard length >= 2, at + 2 + length <= b.count else { throw .malformed("JPEG segment 0x\(String(marker, radix: 16)) runs past the end of the file") }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard size == nil else { throw .malformed("a second JPEG frame header") }
                guard marker <= 0xC2 else { throw .malformed("a JPEG coding (SOF\(marker - 0xC0)) other than baseline, extended or progressive") }
                guard length >= 8 else { throw .malformed("a JPEG frame header too short") }
                let precision = b[at + 4], components = Int(b[at + 9])
                guard precision == 8 || precision == 12, (1...4).contains(components), length == 8 + 3 * components else {
                    throw .malformed("a JPEG frame header with a bad precision or component count")
                }
                let height = uint16(b, at + 5)
                let width = uint16(b, at + 7)
                guard width > 0, height > 0 else { throw .malformed("a JPEG of zero width or height") }
                size = (width, height)
            }
            at += 2 + length
            if marker == 0xDA {
                guard size != nil else { throw .malformed("a JPEG scan before its frame header") }
                sawScan = true
                at = try endOfScan(b, from: at)
            }
        }
        throw .malformed("the JPEG does not end with its EOI marker")
    }

    /// Past the entropy-coded data of a scan: to the next marker that is not a stuffed 0xFF00 or a restart.
    private static func endOfScan(_ b: UnsafeRawBufferPointer, from start: Int) throws(Failure) -> Int {
        var at = start
        while at + 1 < b.count {
            if b[at] == 0xFF {
                let next = b[at + 1]
                if next == 0x00 || (0xD0...0xD7).contains(next) || next == 0xFF {
                    at += next == 0xFF ? 1 : 2
                    continue
                }
                return at
            }
            at += 1
        }
        throw .malformed("the JPEG ends inside a scan")
    }
}
