import MuseCore
import Testing

/// The format and size of an upload come from its bytes, and a malformed file is refused.
@Suite struct ImageProbeTests {
    static let jpeg: [UInt8] = [
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x01, 0x00, 0x02, 0x00, 0x01, 0x01, 0x11, 0x00,
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x12, 0xFF, 0x00, 0xFF, 0xD9,
    ]

    @Test func aProgressiveJPEGAfterAnAPP0SegmentIsReadFromItsFrameHeader() throws {
        #expect(try ImageProbe.inspect(Self.jpeg) == ImageProbe.Info(format: .jpeg, width: 512, height: 256))
    }

    @Test func aDHTSegmentIsNotTakenForAFrame() throws {
        // 0xC4 (DHT) sits in the SOF range; its bytes are no size.
        let withTable: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00] + Self.jpeg.dropFirst(8)
        #expect(try ImageProbe.inspect(withTable).width == 512)
    }

    @Test(
        arguments: [
            ([], ImageProbe.Failure.empty),
            ([0x47, 0x49, 0x46, 0x38], .unknownFormat),
            ([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0xFF, 0xFF, 0xD9], .malformed("JPEG segment 0xc0 runs past the end of the file")),
            (
                [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0xFF, 0xFF, 0xFF, 0xF0, 0x49, 0x48, 0x44, 0x52],
                .malformed("the PNG ends before its IEND chunk")
            ),
        ] as [([UInt8], ImageProbe.Failure)])
    func malformedBytesAreRefused(_ bytes: [UInt8], _ failure: ImageProbe.Failure) {
        #expect(throws: failure) { try ImageProbe.inspect(bytes) }
    }

    /// What an attack on the first version got stored: each is refused now.
    @Test func filesThatOnlyLookWellFormedAreRefused() throws {
        let jpeg = Self.jpeg
        let sof = Array(jpeg[8..<21])
        var secondFrame = jpeg
        secondFrame.insert(contentsOf: sof, at: 21)
        var lossless = jpeg
        lossless[9] = 0xC3
        var noComponents = jpeg
        noComponents[17] = 0
        var png = Self.png()
        png[29] ^= 1  // the IHDR CRC
        var depth = Self.png()
        depth[24] = 7
        for (what, bytes) in [
            ("bytes after EOI that end in FFD9", jpeg + Array("<?php ?>".utf8) + [0xFF, 0xD9]),
            ("a JPEG after a JPEG", jpeg + jpeg), ("a second frame header", secondFrame), ("SOF3", lossless), ("no components", noComponents),
            ("a bad IHDR CRC", png), ("bit depth 7", depth),
        ] {
            #expect(throws: ImageProbe.Failure.self, "\(what)") { try ImageProbe.inspect(bytes) }
        }
        #expect(try ImageProbe.inspect(Self.png()) == ImageProbe.Info(format: .png, width: 2, height: 1))
    }

    /// A 2×1 greyscale PNG with right CRCs (zlib data of its one filtered row).
    static func png() -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = CRC32Probe.of(body)
            return [UInt8(data.count >> 24), UInt8(data.count >> 16 & 0xFF), UInt8(data.count >> 8 & 0xFF), UInt8(data.count & 0xFF)] + body
                + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", [0, 0, 0, 2, 0, 0, 0, 1, 8, 0, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x63, 0x60, 0x60, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01]) + chunk("IEND", [])
    }

    @Test func aPNGChunkLengthNearIntMaxCannotOverflowTheWalk() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [0xFF, 0xFF, 0xFF, 0xFF] + Array("IHDR".utf8) + [UInt8](repeating: 0, count: 17)
        #expect(throws: ImageProbe.Failure.malformed("PNG chunk IHDR runs past the end of the file")) { try ImageProbe.inspect(png) }
    }
}

/// The PNG checksum, written out here so the test does not trust the code it checks.
enum CRC32Probe {
    static func of(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }
}
