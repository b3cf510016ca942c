import Foundation

/// A `.safetensors` file (8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the data) holding LoRA-shaped F32 tensors in the kohya naming
/// that diffusers' `load_lora_weights` reads: `lora_down` (rank × in), `lora_up` (out × rank) and
/// `alpha` for each module.
enum SafetensorsWriter {
    /// LoRA tensors for a few attention projections of the UNet's first (SD 1.5: 320 wide) or
    /// second (SDXL: 640 wide) down block, with small values drawn from `seed`.
    static func lora(base: String, rank: Int, alpha: Double, seed: UInt64, metadata: [String: String]) -> [UInt8] {
        let (block, width) =
            base == "sdxl"
            ? ("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0", 640) : ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0", 320)
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        var random = seed | 1
        func next() -> Float {
            random ^= random << 13
            random ^= random >> 7
            random ^= random << 17
            return Float(Int64(bitPattern: random % 2001) - 1000) / 100_000
        }
        for module in ["attn1_to_q", "attn1_to_k", "attn1_to_v", "attn1_to_out_0"] {
            let name = "\(block)_\(module)"
            tensors.append((name + ".lora_down.weight", [rank, width], (0..<rank * width).map { _ in next() }))
            tensors.append((name + ".lora_up.weight", [width, rank], (0..<width * rank).map { _ in next() }))
            tensors.append((name + ".alpha", [], [Float(alpha)]))
        }
        return encode(tensors, metadata: metadata)
    }

    static func encode(_ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String]) -> [UInt8] {
        var header: [String: Any] = ["__metadata__": metadata]
        var data: [UInt8] = []
        for tensor in tensors {
            let start = data.count
            for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [start, data.count]]
        }
        var json = Array((try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8))
        // The data starts 8-byte aligned, as the format recommends.
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }
}
