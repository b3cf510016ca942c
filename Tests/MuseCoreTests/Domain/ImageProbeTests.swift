import MuseCore
import Testing

/// The format and size of an upload come from its bytes, and a malformed file is refused.
@Suite struct ImageProbeTests {
    static let jpeg: [UInt8] = [
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x01, 0x00, 0x02, 0x00, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9,
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

    @Test func aPNGChunkLengthNearIntMaxCannotOverflowTheWalk() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [0xFF, 0xFF, 0xFF, 0xFF] + Array("IHDR".utf8) + [UInt8](repeating: 0, count: 17)
        #expect(throws: ImageProbe.Failure.malformed("PNG chunk IHDR runs past the end of the file")) { try ImageProbe.inspect(png) }
    }
}
