import Testing

@testable import MuseCore
@testable import MuseInfra
@testable import MuseServer

/// A value from a request or a worker cannot forge a log line or drive a terminal.
@Suite struct LineLogHandlerTests {
    func escaped(_ text: String) -> String {
        var line: [UInt8] = []
        LineLogHandler.appendEscaped(text, to: &line)
        return String(decoding: line, as: UTF8.self)
    }

    @Test func plainTextIsWrittenAsItIs() {
        #expect(escaped("GET /v1/generations 200 préféré 画像") == "GET /v1/generations 200 préféré 画像")
    }

    @Test func controlCharactersAreEscaped() {
        #expect(escaped("evil\n2026-12-01T00:00:00.000Z error muse-cloud: forged") == #"evil\n2026-12-01T00:00:00.000Z error muse-cloud: forged"#)
        #expect(escaped("a\rb\tc\u{1b}[31mred\u{7f}") == #"a\rb\tc\u{1b}[31mred\u{7f}"#)
        #expect(escaped("next\u{85}line\u{2028}sep\u{2029}") == #"next\u{85}line\u{2028}sep\u{2029}"#)
        #expect(escaped("nul\u{0}") == #"nul\u{0}"#)
        #expect(escaped("file\u{202e}gpj.exe") == #"file\u{202e}gpj.exe"#)
    }
}
