import Foundation
import Testing

@testable import MuseJSON

/// The compact encoder writes what Foundation's JSONEncoder writes (as JSON, key order aside).
@Suite struct CompactJSONEncoderTests {
    struct Inner: Encodable {
        var name: String
        var weight: Double
        var tags: [String]
    }

    struct Everything: Encodable {
        var text: String
        var optional: String?
        var missing: Int?
        var integers: [Int64]
        var unsigned: UInt8
        var doubles: [Double]
        var float: Float
        var flag: Bool
        var inner: Inner
        var inners: [Inner]
        var empty: [Inner]
        var nested: [[Int]]
        var dictionary: [String: Int]
        var data: Data
        var url: URL
        var date: Date
        var metadata: JSONValue
    }

    /// Writes every key, `null` included, and a nested container (as GenerationParams and TaskResource do).
    struct Handwritten: Encodable {
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            try c.encode(String?.none, forKey: AnyCodingKey("absent"))
            try c.encode(1, forKey: AnyCodingKey("one"))
            var nested = c.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey("nested"))
            try nested.encode("x", forKey: AnyCodingKey("x"))
            var list = c.nestedUnkeyedContainer(forKey: AnyCodingKey("list"))
            try list.encode(true)
            try list.encodeNil()
            try c.encode("last", forKey: AnyCodingKey("last"))
        }
    }

    struct Nothing: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    let sample = Everything(
        text: "quote \" backslash \\ slash / newline \n tab \t bell \u{07} é 🦊", optional: "here", missing: nil,
        integers: [0, -1, Int64.max, Int64.min], unsigned: 255, doubles: [7.0, 0.1, -2.5, 1e-7, 1e21, 123456789.125], float: 0.5, flag: true,
        inner: Inner(name: "a", weight: 1, tags: []), inners: [Inner(name: "b", weight: 0.25, tags: ["x", "y"])], empty: [],
        nested: [[1, 2], [], [3]], dictionary: ["k": 1, "other key": 2], data: Data([0, 1, 2, 250, 255]),
        url: URL(string: "https://example.com/a?b=c")!, date: Date(timeIntervalSinceReferenceDate: 12345.5),
        metadata: .object([("n", .number("3")), ("list", .array([.null, .bool(false), .string("s")]))])
    )

    func sameJSON(_ ours: [UInt8], _ foundation: Data) throws -> Bool {
        let a = try JSONSerialization.jsonObject(with: Data(ours), options: [.fragmentsAllowed]) as? NSObject
        let b = try JSONSerialization.jsonObject(with: foundation, options: [.fragmentsAllowed]) as? NSObject
        return a != nil && a == b
    }

    @Test func writesWhatFoundationWrites() throws {
        let ours = try CompactJSONEncoder().encode(sample)
        #expect(try sameJSON(ours, JSONEncoder().encode(sample)))
        #expect(try !sameJSON(Array(#"{"a":[1,2]}"#.utf8), Data(#"{"a":[1,3]}"#.utf8)))  // the comparison can fail
        let text = String(decoding: ours, as: UTF8.self)
        #expect(text.contains(#""doubles":[7,0.1,-2.5,1e-07,1e+21,123456789.125]"#))
        #expect(text.contains(#""text":"quote \" backslash \\ slash / newline \n tab \t bell \u0007 é 🦊""#))
        #expect(!text.contains("missing"))
    }

    @Test func keysComeInEncodingOrderAndNestedContainersClose() throws {
        let text = String(decoding: try CompactJSONEncoder().encode(Handwritten()), as: UTF8.self)
        #expect(text == #"{"absent":null,"one":1,"nested":{"x":"x"},"list":[true,null],"last":"last"}"#)
    }

    @Test func scalarsAndEmptyValuesAtTheTop() throws {
        #expect(try CompactJSONEncoder().encode("a/b") == Array(#""a/b""#.utf8))
        #expect(try CompactJSONEncoder().encode(Int?.none) == Array("null".utf8))
        #expect(try CompactJSONEncoder().encode([Int]()) == Array("[]".utf8))
        #expect(try CompactJSONEncoder().encode([Nothing()]) == Array("[{}]".utf8))
    }

    @Test func nonFiniteNumbersThrowLikeFoundation() {
        #expect(throws: EncodingError.self) { try CompactJSONEncoder().encode([1.0, .infinity]) }
        #expect(throws: EncodingError.self) { try CompactJSONEncoder().encode(Inner(name: "n", weight: .nan, tags: [])) }
    }
}
