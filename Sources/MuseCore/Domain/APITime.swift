import Foundation

/// RFC 3339 UTC with milliseconds, the form of every time on the wire (API and worker protocol).
public enum APITime {
    public static func format(_ date: Date?) -> String? {
        date.map { $0.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon)) + "Z" }
    }
}
