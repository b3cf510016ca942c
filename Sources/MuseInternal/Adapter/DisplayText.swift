/// Names and titles people give and others read: bounded in Unicode scalars (so combining marks
/// cannot make a short-looking text huge), with no control characters nor the invisible and
/// direction-changing ones a text could hide behind (openapi.internal.yaml's patterns list the same).
enum DisplayText {
    static func isValid(_ text: String, maxScalars: Int) -> Bool {
        (1...maxScalars).contains(text.unicodeScalars.count) && !text.unicodeScalars.contains(where: isHidden)
    }

    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x206F, 0xFEFF: true
        default: false
        }
    }
}
