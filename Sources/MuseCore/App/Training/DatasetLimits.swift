/// What one upload and one dataset may hold (config `datasets.*`).
public struct DatasetLimits: Sendable {
    /// Bytes of one image file; the upload route's body limit, so more is refused from its head.
    public var maxImageBytes: Int
    /// Width × height of one image, read from its header: a small file claiming a huge image is refused.
    public var maxImagePixels: Int
    /// Either side of one image.
    public var maxImageSide: Int
    public var maxImagesPerDataset: Int
    public var maxDatasetsPerTenant: Int

    public init(
        maxImageBytes: Int = 20 << 20, maxImagePixels: Int = 36_000_000, maxImageSide: Int = 8192, maxImagesPerDataset: Int = 1000,
        maxDatasetsPerTenant: Int = 200
    ) {
        self.maxDatasetsPerTenant = maxDatasetsPerTenant
        self.maxImageBytes = maxImageBytes
        self.maxImagePixels = maxImagePixels
        self.maxImageSide = maxImageSide
        self.maxImagesPerDataset = maxImagesPerDataset
    }
}
