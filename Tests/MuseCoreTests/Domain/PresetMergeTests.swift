import MuseJSON
import Testing

@testable import MuseCore

/// docs/API.md's merge rule: preset params ⊕ overrides, overrides limited to `overridable`.
@Suite struct PresetMergeTests {
    let params = try! JSON.parse(Array(#"{"model":"sd15-base","prompt":"a fox","steps":20,"loras":[{"key":"lora-fox","weight":0.8}]}"#.utf8))

    func merge(_ overrides: String?, overridable: [String] = []) throws(InvalidInput) -> JSONValue {
        try PresetMerge.merge(params, overrides: overrides.map { try! JSON.parse(Array($0.utf8)) }, overridable: overridable)
    }

    @Test func anOverrideReplacesTheFieldAndAddsMissingOnes() throws {
        let merged = try merge(#"{"prompt":"a wolf","seed":7}"#)
        #expect(merged[member: "prompt"] == .string("a wolf"))
        #expect(merged[member: "seed"] == .number("7"))
        #expect(merged[member: "steps"] == .number("20"), "untouched fields stay")
    }

    @Test func aListOverrideReplacesTheWholeList() throws {
        let merged = try merge(#"{"loras":[]}"#)
        #expect(merged[member: "loras"] == .array([]))
    }

    @Test func noOverridesIsThePresetItself() throws {
        #expect(try merge(nil) == params)
        #expect(try merge("null") == params)
    }

    @Test func overridingAFieldOutsideOverridableNamesIt() {
        #expect(throws: InvalidInput("overrides.steps", "this preset does not let steps be overridden; overridable: prompt, seed")) {
            try merge(#"{"steps":50}"#, overridable: ["prompt", "seed"])
        }
        #expect(throws: Never.self) { try merge(#"{"seed":1}"#, overridable: ["prompt", "seed"]) }
    }

    @Test func anUnknownOverrideOrANonObjectIsRefused() {
        #expect((try? merge(#"{"stpes":50}"#)) == nil)
        #expect(throws: InvalidInput("overrides", "must be an object")) { try merge("[1]") }
    }

    @Test func overridableMustNameRequestFields() {
        #expect(throws: Never.self) { try PresetMerge.checkOverridable(["prompt", "negative_prompt", "seed", "loras"]) }
        #expect(throws: InvalidInput("overridable[1]", "\"colour\" is not a generation parameter")) {
            try PresetMerge.checkOverridable(["prompt", "colour"])
        }
    }
}
