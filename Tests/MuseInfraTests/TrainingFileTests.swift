import Foundation
import MuseCore
import MuseInfra
import MuseJSON
import Testing

/// config/training.yaml: what it defines, and the mistakes an operator's copy is refused for.
@Suite struct TrainingFileTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let minimal = """
        dataset_categories: [{key: person, name: Person, description: d}]
        forms:
          sd15: [{key: steps, type: integer, default: 100, min: 10, max: 200, label: Steps, help: h}]
          sdxl: [{key: steps, type: integer, default: 100, min: 10, max: 200, label: Steps, help: h}]
        """

    @Test func theRepositorysFileDefinesBothFormsAndTheirDefaultsPassThem() throws {
        let definitions = try TrainingFile.read(Self.repository.appendingPathComponent("config/training.yaml").path)
        #expect(definitions.datasetCategories.map(\.key).contains("person"))
        for base in BaseModel.allCases {
            let form = try #require(definitions.forms[base])
            let resolved = try form.resolve(nil)
            #expect(resolved.map(\.key) == form.fields.map(\.key))
        }
    }

    @Test func paramsAreCheckedAgainstTheForm() throws {
        let form = try #require(try TrainingFile.parse(Self.minimal, source: "t").forms[.sd15])
        #expect(try form.resolve(.object([("steps", .number("150"))])).first?.value == .number("150"))
        for (params, message) in [
            (JSONValue.object([("steps", .number("5"))]), "must be at least 10"),
            (.object([("steps", .number("1.5"))]), "must be an integer"),
            (.object([("steps", .string("100"))]), "must be an integer"),
            (.object([("epochs", .number("1"))]), "is not a sd15 training parameter"),
            (.array([]), "must be an object"),
        ] {
            #expect(throws: InvalidInput.self) { try form.resolve(params) }
            do {
                _ = try form.resolve(params)
            } catch {
                #expect(error.problems.first?.message.contains(message) == true, "\(params): \(error.problems)")
            }
        }
    }

    @Test(arguments: [
        ("default: 100, min: 10, max: 200", "default: 5, min: 10, max: 200", "the default must be at least 10"),
        ("type: integer", "type: float", "type is integer"),
        ("key: steps", "key: Steps", "a key is"),
        ("min: 10, max: 200", "min: 300, max: 200", "min is above max"),
    ])
    func aBadFieldIsRefusedNamingIt(_ good: String, _ bad: String, _ message: String) {
        let text = Self.minimal.replacingOccurrences(of: good, with: bad)
        #expect(text != Self.minimal)
        #expect(throws: (any Error).self) { try TrainingFile.parse(text, source: "t") }
        do {
            _ = try TrainingFile.parse(text, source: "t")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func aMissingFormIsRefused() {
        let text = Self.minimal.split(separator: "\n").filter { !$0.contains("sdxl") }.joined(separator: "\n")
        #expect(throws: (any Error).self) { try TrainingFile.parse(text, source: "t") }
    }
}
