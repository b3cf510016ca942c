import MuseJSON

/// An image upload checked where it was written: its format by signature (which must be the
/// declared one), its size from its header, a walk over its structure, and its digest.
struct UploadedImage: Sendable {
    let info: ImageProbe.Info
    let sha256: String
    let size: Int

    /// Writes `chunks` into `upload` and checks the result; a failure leaves the upload to the caller.
    static func receive<Chunks: AsyncSequence>(
        _ chunks: Chunks, into upload: any BlobUpload, declaredType: ImageProbe.Format, digests: any Digests
    ) async throws -> UploadedImage where Chunks.Element == [UInt8] {
        let size = try await upload.write(chunks)
        let (probed, sha256) = try await upload.withBytes { bytes in
            (Result { () throws(ImageProbe.Failure) -> ImageProbe.Info in try ImageProbe.inspect(bytes) }, digests.sha256Hex(bytes))
        }
        let info: ImageProbe.Info
        switch probed {
        case .success(let found): info = found
        case .failure(let failure): throw InvalidInput("body", failure.description)
        }
        guard info.format == declaredType else {
            throw InvalidInput("body", "the body is a \(info.format.rawValue.uppercased()), not the declared \(declaredType.contentType)")
        }
        return UploadedImage(info: info, sha256: sha256, size: size)
    }
}
