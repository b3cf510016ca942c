import Foundation

/// The daily off-peak window in UTC hours, `startHour` inclusive to `endHour` exclusive;
/// it may wrap midnight (22 → 6).
public struct OffPeakWindow: Sendable, Equatable {
    public var startHour: Int
    public var endHour: Int

    public init(startHour: Int, endHour: Int) {
        self.startHour = startHour
        self.endHour = endHour
    }

    public func contains(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let hour = calendar.component(.hour, from: date)
        if startHour == endHour { return false }
        return startHour < endHour ? (startHour..<endHour).contains(hour) : (hour >= startHour || hour < endHour)
    }
}
