import ArgumentParser
import AutoencoderKit

/// `--label-column`/`--feature-columns` of the commands that score a run on other CSV files (`evaluate`, `detect`).
struct ColumnOptions: ParsableArguments {
    @Option(help: "CSV column holding labels in the given data files (default: the run's).") var labelColumn: String?
    @Option(help: "CSV feature columns of the given data files, comma-separated, in the run's feature order (default: the run's).") var featureColumns: String?

    /// Whether the files must carry labels: `--label-column` was given (otherwise a file without the run's label
    /// column is read unlabelled).
    var requiresLabels: Bool { labelColumn != nil }

    /// The run's CSV options with these in place; `files` says whether the command was given data files, which
    /// these options need (the run's own data is read as it was trained).
    func csv(for config: RunConfig, files: Bool) throws -> CSVOptions {
        var options = config.data.csv
        if let labelColumn { options.labelColumn = labelColumn }
        if let featureColumns { options.featureColumns = featureColumns.split(separator: ",").map(String.init) }
        if options != config.data.csv && !files {
            throw ConfigError.invalid("--label-column and --feature-columns apply to --data files, not to the run's own data")
        }
        return options
    }
}
