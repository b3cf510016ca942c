import Foundation

/// The loss curve of a training as an SVG: the points as a line over the steps, axes labelled
/// with the step range and the loss range. Only numbers go in, nothing a user wrote.
enum LossChart {
    static func svg(points: [(step: Int, loss: Double)], totalSteps: Int?, width: Int = 640, height: Int = 320) -> String {
        let left = 56.0, right = 16.0, top = 16.0, bottom = 40.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let maxStep = Double(max(totalSteps ?? 0, points.last?.step ?? 0, 1))
        let losses = points.map(\.loss)
        let low = losses.min() ?? 0, high = losses.max() ?? 1
        let span = high - low > 1e-12 ? high - low : 1
        func x(_ step: Int) -> Double { left + plotWidth * Double(step) / maxStep }
        func y(_ loss: Double) -> Double { top + plotHeight * (1 - (loss - low) / span) }
        func n(_ value: Double) -> String { String(format: "%.1f", value) }
        func label(_ value: Double) -> String { String(format: "%.4g", value) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#fff"/>
            <line x1="\(n(left))" y1="\(n(top + plotHeight))" x2="\(n(left + plotWidth))" y2="\(n(top + plotHeight))" stroke="#888"/>
            <line x1="\(n(left))" y1="\(n(top))" x2="\(n(left))" y2="\(n(top + plotHeight))" stroke="#888"/>
            <text x="\(n(left))" y="\(n(Double(height) - 12))">0</text>
            <text x="\(n(left + plotWidth))" y="\(n(Double(height) - 12))" text-anchor="end">step \(Int(maxStep))</text>
            <text x="\(n(left - 6))" y="\(n(top + 10))" text-anchor="end">\(label(high))</text>
            <text x="\(n(left - 6))" y="\(n(top + plotHeight))" text-anchor="end">\(label(low))</text>

            """
        if points.isEmpty {
            svg += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#888\">no loss reported yet</text>\n"
        } else {
            let path = points.map { "\(n(x($0.step))),\(n(y($0.loss)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#3060c0\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
        }
        return svg + "</svg>\n"
    }
}
