import Foundation
import Testing

@testable import MuseCore

/// Times on the wire are rounded to the millisecond as the stores keep them.
@Suite struct APITimeTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"), (0.1875, "1970-01-01T00:00:00.188Z"), (1.9996, "1970-01-01T00:00:02.000Z"),
        (1_764_633_600.0424, "2025-12-02T00:00:00.042Z"), (59.9994, "1970-01-01T00:00:59.999Z"),
    ])
    func formatsWithMilliseconds(_ seconds: Double, _ text: String) {
        #expect(APITime.format(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test func theFormattedMillisecondIsTheStoredOne() {
        for _ in 0..<1000 {
            let date = Date(timeIntervalSince1970: Double.random(in: 1_700_000_000...1_800_000_000))
            let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
            #expect(APITime.format(date)?.dropLast().suffix(3) == String(format: "%03d", millis % 1000)[...])
        }
    }
}
