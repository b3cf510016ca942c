/// What a worker can do (docs/WORKER-PROTOCOL.md `abilities`); a job goes only to a worker that has its ability.
public enum Ability: String, Sendable, CaseIterable {
    case txt2img, img2img, crop, tag, train

    /// The abilities that run generation tasks.
    public static let generation: Set<Ability> = [.txt2img, .img2img]
}

extension GenerationParams {
    /// The ability a worker needs for this task: an init image makes it img2img.
    public var ability: Ability { initImage == nil ? .txt2img : .img2img }
}
