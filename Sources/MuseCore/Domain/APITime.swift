import Foundation

/// RFC 3339 UTC with milliseconds, the form of every time on the wire (API and worker protocol).
public enum APITime {
    /// Rounded to the millisecond as the stores keep times, so a create's answer shows the time a
    /// later read of the same object shows.
    public static func format(_ date: Date?) -> String? {
        guard let date else { return nil }
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, fraction) = (millis - ((millis % 1000) + 1000) % 1000, ((millis % 1000) + 1000) % 1000)
        let whole = Date(timeIntervalSince1970: TimeInterval(seconds / 1000))
        let text = whole.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        let digits = String(fraction)
        return text + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}
