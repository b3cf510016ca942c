import Testing

@testable import MuseJSON

@Suite struct StrictJSONDecoderTests {
    struct LoRA: Decodable, Equatable {
        var key: String
        var weight: Double
    }

    struct Params: Decodable, Equatable {
        var model: String
        var steps: Int?
        var negativePrompt: String?
        var loras: [LoRA]?
        var metadata: JSONValue?

        enum CodingKeys: String, CodingKey {
            case model, steps, loras, metadata
            case negativePrompt = "negative_prompt"
        }
    }

    func decode(_ json: String) throws(InvalidInput) -> Params {
        try StrictJSONDecoder().decode(Params.self, from: Array(json.utf8))
    }

    func fieldOf(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return error.problems.first?.field ?? "(no field: \(error.detail))"
        }
    }

    @Test func decodesSnakeCaseFieldsAndFreeFormMetadata() throws {
        let params = try decode(
            #"{"model":"sd15-base","steps":20,"negative_prompt":"blurry","loras":[{"key":"fox","weight":0.8}],"metadata":{"anything":{"goes":[1,"two"]}}}"#)
        #expect(params.model == "sd15-base")
        #expect(params.steps == 20)
        #expect(params.negativePrompt == "blurry")
        #expect(params.loras == [LoRA(key: "fox", weight: 0.8)])
        #expect(params.metadata == .object([("anything", .object([("goes", .array([.number("1"), .string("two")]))]))]))
    }

    @Test func unknownTopLevelFieldIsNamed() {
        #expect(fieldOf(#"{"model":"m","stepz":20}"#) == "stepz")
    }

    @Test func unknownNestedFieldIsNamedWithItsPath() {
        #expect(fieldOf(#"{"model":"m","loras":[{"key":"a","weight":1},{"key":"b","weight":1,"wieght":2}]}"#) == "loras[1].wieght")
    }

    @Test func wrongTypeIsNamed() {
        #expect(fieldOf(#"{"model":"m","steps":"twenty"}"#) == "steps")
        #expect(fieldOf(#"{"model":"m","steps":20.5}"#) == "steps")
        #expect(fieldOf(#"{"model":7}"#) == "model")
        #expect(fieldOf(#"{"model":"m","loras":[{"key":"a","weight":"heavy"}]}"#) == "loras[0].weight")
    }

    @Test func missingRequiredFieldIsNamed() {
        #expect(fieldOf(#"{"steps":20}"#) == "model")
    }

    @Test func nullForOptionalIsAbsent() throws {
        #expect(try decode(#"{"model":"m","steps":null}"#).steps == nil)
    }

    @Test(arguments: [
        #"{"model":"m",}"#, #"{"model":'m'}"#, #"{"model":"m""#, "", "nul", #"{"model":"m"} x"#,
        #"{"model":"m","model":"n"}"#, #"{"model":"\x"}"#, "[" + String(repeating: "[", count: 100) + "]",
    ])
    func malformedJSONIsRejected(_ json: String) {
        do {
            _ = try decode(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.problems.isEmpty, "malformed JSON names no field")
            #expect(error.detail.hasPrefix("malformed JSON at byte"))
        }
    }

    @Test func unicodeEscapesAndSurrogatePairsDecode() throws {
        #expect(try decode(#"{"model":"\u00e9\ud83e\udd8a"}"#).model == "é🦊")
    }

    @Test func escapesBetweenRawTextKeepEveryCharacter() throws {
        #expect(try decode(#"{"model":"a\"b\\c\nd é\u00e9 \/ 🦊"}"#).model == "a\"b\\c\nd éé / 🦊")
        #expect(try decode(#"{"model":"\t"}"#).model == "\t")
        #expect(try decode(#"{"model":""}"#).model == "")
    }

    @Test func invalidUTF8IsRejectedWithOrWithoutEscapes() {
        for bytes: [UInt8] in [[0xC3, 0x28], [0x5C, 0x6E, 0xC3], [0xE2, 0x82, 0x5C, 0x6E, 0xAC]] {
            let json = Array(#"{"model":""#.utf8) + bytes + Array(#""}"#.utf8)
            #expect(throws: InvalidInput.self) { try StrictJSONDecoder().decode(Params.self, from: json) }
        }
    }
}
