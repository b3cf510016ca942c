import Foundation
import Testing

@testable import MuseCore

@Suite struct RedeliveryLimitTests {
    @Test func aTenantGetsItsNumberAMinuteAndLearnsWhenTheNextFrees() {
        let limit = RedeliveryLimit(perMinute: 3)
        let start = Date()
        for i in 0..<3 { #expect(limit.take("acme", now: start.addingTimeInterval(Double(i))) == nil) }
        #expect(limit.take("acme", now: start.addingTimeInterval(10)) == 50, "the first frees 60 s after it was taken")
        #expect(limit.take("other", now: start.addingTimeInterval(10)) == nil, "each tenant has its own minute")
        #expect(limit.take("acme", now: start.addingTimeInterval(60.5)) == nil)
    }
}
