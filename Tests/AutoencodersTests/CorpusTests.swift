import Foundation
import Testing
@testable import Autoencoders

/// One line of Corpus/manifest.tsv: a bad file, the loader to try, and a substring of the expected message.
struct CorpusCase: CustomTestStringConvertible, Sendable {
    let file: String
    let loader: String
    let expected: String

    var testDescription: String { file }

    static let corpus: URL = Bundle.module.url(forResource: "Corpus", withExtension: nil)!

    static let all: [CorpusCase] = {
        guard let text = try? String(contentsOf: corpus.appendingPathComponent("manifest.tsv"), encoding: .utf8) else {
            return []
        }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return CorpusCase(file: parts[0], loader: parts[1], expected: parts.count > 2 ? parts[2] : "")
        }
    }()

    /// Loads the file with the loader the manifest names (CSV options `label=` and `features=` after it).
    func load() throws {
        let url = Self.corpus.appendingPathComponent(file)
        let words = loader.split(separator: " ").map(String.init)
        switch words[0] {
        case "idx": _ = try IDXFormat.load(url)
        case "npy": _ = try NPYFormat.load(url)
        case "safetensors": _ = try SafeTensorsFormat.read(url)
        case "csv":
            var options = CSVOptions()
            for word in words.dropFirst() {
                if word.hasPrefix("label=") { options.labelColumn = String(word.dropFirst(6)) }
                if word.hasPrefix("features=") { options.featureColumns = word.dropFirst(9).split(separator: ",").map(String.init) }
            }
            _ = try CSVFormat.load(url, options: options)
        default:
            Issue.record("unknown loader \(loader) in the manifest")
        }
    }
}

@Suite("Bad-input corpus")
struct CorpusTests {
    @Test func manifestIsLargeAndComplete() throws {
        #expect(CorpusCase.all.count >= 30)
        let names = Set(CorpusCase.all.map(\.file))
        #expect(names.count == CorpusCase.all.count, "a file is listed twice")
        for entry in CorpusCase.all { #expect(!entry.expected.isEmpty, "\(entry.file) has no expected message") }
    }

    @Test(arguments: CorpusCase.all)
    func badFileGivesOneLineTypedError(_ entry: CorpusCase) {
        do {
            try entry.load()
            Issue.record("\(entry.file) loaded without an error")
        } catch let error as DataError {
            let message = error.description
            #expect(!message.contains("\n") && !message.contains("\r"), "multi-line message: \(message)")
            #expect(message.contains(entry.expected), "\(entry.file): got \(message)")
            #expect(message.hasPrefix(error.file))
        } catch {
            Issue.record("\(entry.file) threw a non-DataError: \(error)")
        }
    }
}
