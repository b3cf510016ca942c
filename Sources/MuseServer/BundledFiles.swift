import MuseCore
import MuseInfra

/// The default model catalogue, training definitions and OpenAPI document, compiled into the
/// binary (from config/models.yaml, config/training.yaml and openapi.yaml), so a binary started
/// from any directory has them all.
public enum BundledFiles {
    /// config/models.yaml as built.
    public static var catalog: String { String(decoding: PackageResources.models_yaml, as: UTF8.self) }
    /// config/training.yaml as built.
    public static var training: String { String(decoding: PackageResources.training_yaml, as: UTF8.self) }
    /// openapi.yaml as built.
    public static var openAPI: [UInt8] { PackageResources.openapi_yaml }
}
