import CZlib

/// Encodes 8-bit RGB pixels as a PNG file (IHDR, one zlib-compressed IDAT, IEND).
enum PNGEncoder {
    static func encode(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        precondition(rgb.count == width * height * 3)
        // Each scanline starts with its filter type; 0 (none) keeps encoding cheap.
        var raw = [UInt8]()
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgb[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        // Level 1: the simulated images are smooth gradients, and a fast level keeps the simulator's CPU share small.
        let rc = compress2(&compressed, &compressedLength, raw, uLong(raw.count), 1)
        precondition(rc == Z_OK, "zlib compress2 failed: \(rc)")
        compressed.removeSubrange(Int(compressedLength)...)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = [UInt8]()
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8-bit depth, RGB, deflate, adaptive filtering, no interlace
        png += chunk("IHDR", header)
        png += chunk("IDAT", compressed)
        png += chunk("IEND", [])
        return png
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        let body = typeBytes + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

/// The simulated image: a pure function of the inputs docs/API.md names, so the same seed gives the same bytes.
enum SimulatedImage {
    static func png(model: String, prompt: String, negativePrompt: String, seed: Int64, width: Int, height: Int, steps: Int) -> [UInt8] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array("\(model)\u{0}\(prompt)\u{0}\(negativePrompt)\u{0}\(seed)\u{0}\(width)x\(height)\u{0}\(steps)".utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let a = [UInt8(hash & 0xFF), UInt8((hash >> 8) & 0xFF), UInt8((hash >> 16) & 0xFF)]
        let b = [UInt8((hash >> 24) & 0xFF), UInt8((hash >> 32) & 0xFF), UInt8((hash >> 40) & 0xFF)]
        let rings = Int((hash >> 48) % 7) + 3
        let cx = width / 2, cy = height / 2
        let maxR = max(1, cx * cx + cy * cy)
        // Concentric rings alternate two diagonal gradients (a to b, b to a). Each gradient's colour
        // at x + y is computed once, so a pixel costs one division: the simulator's CPU is not
        // what a benchmark measures, and on a shared machine it is taken from the server.
        let positions = width + height - 1
        var even = [UInt8](repeating: 0, count: positions * 3), odd = even
        for position in 0..<positions {
            let t = position * 255 / max(1, width + height - 2)
            for c in 0..<3 {
                even[position * 3 + c] = UInt8((Int(a[c]) * (255 - t) + Int(b[c]) * t) / 255)
                odd[position * 3 + c] = UInt8((Int(b[c]) * (255 - t) + Int(a[c]) * t) / 255)
            }
        }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let dy2 = (y - cy) * (y - cy)
                for x in 0..<width {
                    let ring = ((x - cx) * (x - cx) + dy2) * rings * 2 / maxR
                    let gradient = ring % 2 == 0 ? even : odd
                    let from = (x + y) * 3, to = (y * width + x) * 3
                    out[to] = gradient[from]
                    out[to + 1] = gradient[from + 1]
                    out[to + 2] = gradient[from + 2]
                }
            }
        }
        return PNGEncoder.encode(width: width, height: height, rgb: rgb)
    }
}
