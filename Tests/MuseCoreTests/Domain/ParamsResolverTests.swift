import MuseJSON
import MuseWorkerProtocol
import Testing

@testable import MuseCore

@Suite struct ParamsResolverTests {
    let resolver = ParamsResolver(limits: GenerationLimits())
    let sd15 = Model(
        key: "sd15-base", name: "SD 1.5", kind: .checkpoint, base: .sd15,
        defaultParams: ModelDefaults(width: 512, height: 768, steps: 25, guidanceScale: 6.5, sampler: "dpmpp_2m"),
        minSize: 256, maxSize: 1024)
    let foxLoRA = Model(key: "lora-fox", name: "Fox", kind: .lora, base: .sd15)
    let neonXL = Model(key: "lora-xl-neon", name: "Neon", kind: .lora, base: .sdxl)

    func resolve(_ configure: (inout GenerationRequest) -> Void) throws(InvalidInput) -> GenerationParams {
        var request = GenerationRequest(model: "sd15-base", prompt: "a red fox")
        configure(&request)
        return try resolver.resolve(request, checkpoint: sd15, loras: ["lora-fox": foxLoRA, "lora-xl-neon": neonXL], randomSeed: 1234)
    }

    func fields(_ configure: (inout GenerationRequest) -> Void) -> [String] {
        do {
            _ = try resolve(configure)
            return []
        } catch {
            return error.problems.map(\.field)
        }
    }

    @Test func missingFieldsComeFromTheModelThenGlobalDefaults() throws {
        let params = try resolve { _ in }
        #expect(params.width == 512 && params.height == 768)
        #expect(params.steps == 25 && params.guidanceScale == 6.5 && params.sampler == .dpmpp2m)
        #expect(params.numImages == 1 && params.seed == 1234 && params.priority == .online && params.schedule == .now)
        #expect(params.loras.isEmpty && params.metadata == .object([]))
    }

    @Test func requestValuesWinOverDefaults() throws {
        let params = try resolve {
            $0.width = 640; $0.steps = 40; $0.seed = 7; $0.priority = "offline"; $0.loras = [LoRAReference(key: "lora-fox", weight: 0.8)]
        }
        #expect(params.width == 640 && params.steps == 40 && params.seed == 7 && params.priority == .offline)
        #expect(params.loras == [LoRAReference(key: "lora-fox", weight: 0.8)])
    }

    @Test func sizeMustBeAMultipleOf8WithinTheModelsRange() {
        #expect(fields { $0.width = 513 } == ["width"])
        #expect(fields { $0.height = 2048 } == ["height"])
        #expect(fields { $0.width = 248 } == ["width"])
    }

    @Test func everyBadFieldIsNamedAtOnce() {
        let named = fields {
            $0.steps = 0; $0.guidanceScale = 99; $0.sampler = "warp"; $0.numImages = 9; $0.priority = "urgent"
            $0.schedule = "later"; $0.strength = 2; $0.seed = -1
        }
        #expect(named == ["steps", "guidance_scale", "sampler", "num_images", "seed", "strength", "priority", "schedule"])
    }

    @Test func loraMustExistAndMatchTheBase() {
        #expect(fields { $0.loras = [LoRAReference(key: "lora-none", weight: 1)] } == ["loras[0].key"])
        #expect(fields { $0.loras = [LoRAReference(key: "lora-fox", weight: 1), LoRAReference(key: "lora-xl-neon", weight: 1)] } == ["loras[1].key"])
        #expect(fields { $0.loras = [LoRAReference(key: "lora-fox", weight: 5)] } == ["loras[0].weight"])
    }

    @Test func unknownModelOrALoRAAsModelIsNamed() {
        let request = GenerationRequest(model: "nope", prompt: "x")
        #expect(throws: InvalidInput.self) { try resolver.resolve(request, checkpoint: nil, loras: [:], randomSeed: 1) }
        do {
            _ = try resolver.resolve(GenerationRequest(model: "lora-fox", prompt: "x"), checkpoint: foxLoRA, loras: [:], randomSeed: 1)
            Issue.record("a LoRA was accepted as the model")
        } catch {
            #expect(error.problems.first?.field == "model")
        }
    }

    @Test func promptMustBePresentAndBounded() {
        #expect(fields { $0.prompt = "   " } == ["prompt"])
        #expect(fields { $0.prompt = String(repeating: "a", count: 2001) } == ["prompt"])
    }
}
