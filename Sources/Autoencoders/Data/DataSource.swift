import Foundation

/// Where a run's data comes from, as named on the command line.
///
/// `digits` and `breast-cancer` are the bundled sets, `shapes[:…]` the generated sprites (``ShapesDataset``); anything else is a path whose name picks the loader:
/// `.csv` → CSV, `.npy` → NPY, `.idx`, `.gz` or a name ending in `-ubyte` → IDX. CSV options apply to CSV
/// files and to `breast-cancer` (its feature selection; the label column stays `malignant`).
public enum DataSource: Equatable, Sendable, CustomStringConvertible {
    /// The bundled UCI digits (`BundledData.digits`).
    case digits
    /// The bundled Wisconsin breast cancer table (`BundledData.breastCancer`), optionally some features.
    case breastCancer(featureColumns: [String]?)
    /// An IDX file (labels from the matching `-labels-idx1-ubyte` file beside it, when present).
    case idx(URL)
    /// A CSV file with a header row.
    case csv(URL, CSVOptions)
    /// A `.npy` array whose first axis indexes samples.
    case npy(URL)
    /// A folder of `.npy` shards with the same sample shape, in their numeric order (``NPYShardFolder``).
    case npyShards(URL)
    /// Generated 64×64 sprites with known factors (``ShapesDataset/Configuration/init(parsing:)``).
    case shapes(ShapesDataset.Configuration)

    /// Parses a command-line data argument.
    ///
    /// - Throws: `invalidArgument` for an empty string, an unknown extension, or CSV options given with a
    ///   source that is not a table.
    public init(parsing text: String, csv options: CSVOptions = CSVOptions()) throws {
        let hasCSVOptions = options != CSVOptions()
        func rejectCSVOptions(_ what: String) throws {
            if hasCSVOptions {
                throw DataError(file: text, .invalidArgument("label/feature column options apply to CSV tables, not to \(what)"))
            }
        }
        switch text {
        case "":
            throw DataError(file: "data source", .invalidArgument("empty data source"))
        case "digits":
            try rejectCSVOptions("digits")
            self = .digits
        case "breast-cancer":
            if let label = options.labelColumn, label != "malignant" {
                throw DataError(file: text, .invalidArgument("breast-cancer's label column is \"malignant\", not \(DataError.quoted(label))"))
            }
            self = .breastCancer(featureColumns: options.featureColumns)
        case _ where text == "shapes" || text.hasPrefix("shapes:"):
            try rejectCSVOptions("shapes")
            self = .shapes(try ShapesDataset.Configuration(parsing: text))
        default:
            let url = URL(fileURLWithPath: text)
            let name = url.lastPathComponent.lowercased()
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory), isDirectory.boolValue {
                try rejectCSVOptions("folders of .npy shards")
                self = .npyShards(url)
            } else if name.hasSuffix(".csv") {
                self = .csv(url, options)
            } else if name.hasSuffix(".npy") {
                try rejectCSVOptions("NPY files")
                self = .npy(url)
            } else if name.hasSuffix(".idx") || name.hasSuffix(".gz") || name.hasSuffix("-ubyte") {
                try rejectCSVOptions("IDX files")
                self = .idx(url)
            } else {
                throw DataError(file: text, .invalidArgument("unknown data source: expected digits, breast-cancer, shapes, a .csv, .npy, .idx, .gz or -ubyte file, or a folder of .npy shards"))
            }
        }
    }

    /// The whole data set: for `digits` the 1,500-sample training split, for files everything in the file.
    public func load() throws -> Dataset {
        switch self {
        case .digits: return try BundledData.digits(split: .train)
        case .breastCancer(let columns): return try BundledData.breastCancer(featureColumns: columns)
        case .idx(let url): return try IDXFormat.load(url)
        case .csv(let url, let options): return try CSVFormat.load(url, options: options)
        case .npy(let url): return try NPYFormat.load(url)
        case .npyShards(let url): return try NPYShardFolder(url).load()
        case .shapes(let configuration): return ShapesDataset.generate(configuration).dataset
        }
    }

    /// Training and held-out test sets: the bundled split for `digits`; for every other source a seeded
    /// shuffle (`Dataset.split`) keeping `1 − testFraction` of the samples for training.
    ///
    /// - Throws: `invalidArgument` when `testFraction` is not within [0, 1], and any loader error.
    public func loadSplit(testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        guard testFraction.isFinite, (0...1).contains(testFraction) else {
            throw DataError(file: description, .invalidArgument("test fraction \(testFraction) is not within [0, 1]"))
        }
        if case .digits = self {
            return (try BundledData.digits(split: .train), try BundledData.digits(split: .test))
        }
        return try load().split(seed: seed, fraction: 1 - testFraction)
    }

    /// The command-line form (`digits`, `breast-cancer`, `shapes`, or the path).
    public var description: String {
        switch self {
        case .digits: return "digits"
        case .breastCancer: return "breast-cancer"
        case .idx(let url), .csv(let url, _), .npy(let url), .npyShards(let url): return url.path
        case .shapes(let configuration): return configuration.description
        }
    }
}
