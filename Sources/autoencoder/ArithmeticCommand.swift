import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder arithmetic`: decode(z_a − z_b + z_c).
struct ArithmeticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arithmetic",
        abstract: "Decode z_a − z_b + z_c, each operand a sample index or label:K, the mean code of class K (image runs).")

    @OptionGroup var runOptions: RunOptions
    @Option(help: "Data the operands refer to (default: the run's own test split).") var data: String?
    @Option(help: "Operand a: a sample index or label:K.", transform: LatentOperand.init(parsing:)) var a: LatentOperand
    @Option(help: "Operand b, subtracted.", transform: LatentOperand.init(parsing:)) var b: LatentOperand
    @Option(help: "Operand c, added.", transform: LatentOperand.init(parsing:)) var c: LatentOperand
    @Option(help: "PNG file to write (default RUN/arithmetic.png).") var out: String?

    func run() throws {
        let operands = [a, b, c]
        let config = try runOptions.readConfig()
        let images = try RunImages(config: config)
        let opened = try runOptions.open(config: config, batchSize: 256)
        let codes = try opened.model.encode(try opened.data(data))
        let z = try operands.map { try $0.code(in: codes) }
        let result = LatentArithmetic.combine(z[0], minus: z[1], plus: z[2])
        let decoded = try opened.model.decode(codes: z[0] + z[1] + z[2] + result)
        let raster = images.grid(decoded, columns: 4, columnLabels: ["a", "b", "c", "a-b+c"],
                                 title: "\(operands[0]) - \(operands[1]) + \(operands[2])")
        try RunOptions.write(raster, to: runOptions.output(out, default: "arithmetic.png"))
    }
}
