/// Names and titles people give and others read: bounded in Unicode scalars (so combining marks
/// cannot make a short-looking text huge), something visible in them, and none of the characters
/// a text could hide behind: controls, format characters (Unicode's Cf: direction marks and
/// overrides, zero-width and tag characters, the soft hyphen…), line and paragraph separators, and
/// the blank fillers; and at least one letter, number, punctuation or symbol. The list is explicit, not the runtime's Unicode tables, so that
/// openapi.internal.yaml's patterns can state the same (the astral-plane entries excepted).
public enum DisplayText {
    public static func isValid(_ text: String, maxScalars: Int) -> Bool {
        let scalars = text.unicodeScalars
        return (1...maxScalars).contains(scalars.count) && !scalars.contains(where: isHidden) && scalars.contains(where: isVisible)
    }

    /// A letter, number, punctuation or symbol: not only spaces and marks.
    static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber, .letterNumber, .otherNumber,
            .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation,
            .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            !isHidden(scalar)
        default: false
        }
    }

    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0xAD, 0x34F, 0x600...0x605, 0x61C, 0x6DD, 0x70F, 0x890...0x891, 0x8E2, 0x115F...0x1160, 0x17B4...0x17B5,
            0x180E, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0x2800, 0x3164, 0xFEFF, 0xFFA0, 0xFFF9...0xFFFB,
            0x110BD, 0x110CD, 0x13430...0x1343F, 0x1BCA0...0x1BCA3, 0x1D173...0x1D17A, 0xE0000...0xE007F:
            true
        default: false
        }
    }
}
