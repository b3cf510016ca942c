import CZlib

/// Decodes enough of a PNG to prove any decoder opens it: signature, chunk CRCs, IHDR, and an
/// IDAT that inflates to exactly the scanlines IHDR promises.
enum PNGCheck {
    static func dimensions(_ png: [UInt8]) -> (width: Int, height: Int)? {
        guard png.count > 33, Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        var offset = 8
        var width = 0, height = 0
        var idat: [UInt8] = []
        func u32(_ at: Int) -> Int { Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3]) }
        while offset + 12 <= png.count {
            let length = u32(offset)
            guard offset + 12 + length <= png.count else { return nil }
            let type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(png[(offset + 4)..<(offset + 8 + length)])
            let crc = body.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, uInt($0.count))) }
            guard crc == u32(offset + 8 + length) else { return nil }
            let data = Array(body.dropFirst(4))
            switch type {
            case "IHDR":
                width = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
                height = Int(data[4]) << 24 | Int(data[5]) << 16 | Int(data[6]) << 8 | Int(data[7])
                guard data[8] == 8, data[9] == 2 else { return nil }
            case "IDAT": idat += data
            case "IEND":
                var expected = uLongf((width * 3 + 1) * height)
                var raw = [UInt8](repeating: 0, count: Int(expected))
                let rc = uncompress(&raw, &expected, idat, uLong(idat.count))
                return rc == Z_OK && Int(expected) == (width * 3 + 1) * height ? (width, height) : nil
            default: break
            }
            offset += 12 + length
        }
        return nil
    }
}
