/// The data sets shipped inside the module (see `Sources/Autoencoders/Resources/README.md` for sources and
/// the CC BY 4.0 attribution); they need no files at run time.
public enum BundledData {
    /// The two parts of the digits data, split 1,500 / 297 by a seeded shuffle when the files were made.
    public enum Split: String, CaseIterable, Sendable {
        /// The 1,500 training samples.
        case train
        /// The 297 held-out samples.
        case test
    }

    /// UCI optical digits: 8×8 images (shape `[1, 8, 8]`) scaled to [0, 1], labels 0–9;
    /// 1,500 samples in `train`, 297 in `test`.
    public static func digits(split: Split) throws -> Dataset {
        switch split {
        case .train:
            return try IDXFormat.dataset(images: PackageResources.digits_train_images_idx3_ubyte_gz,
                                         labels: PackageResources.digits_train_labels_idx1_ubyte_gz, name: "digits-train")
        case .test:
            return try IDXFormat.dataset(images: PackageResources.digits_test_images_idx3_ubyte_gz,
                                         labels: PackageResources.digits_test_labels_idx1_ubyte_gz, name: "digits-test")
        }
    }

    /// Wisconsin diagnostic breast cancer: 569 samples of 30 real features (shape `[30]`, raw units), label
    /// `malignant` (1 for the 212 malignant masses, 0 for the 357 benign). `featureColumns` picks a subset.
    public static func breastCancer(featureColumns: [String]? = nil) throws -> Dataset {
        var dataset = try CSVFormat.decode(PackageResources.wdbc_csv, file: "wdbc.csv",
                                           options: CSVOptions(labelColumn: "malignant", featureColumns: featureColumns))
        dataset.name = "breast-cancer"
        return dataset
    }
}
