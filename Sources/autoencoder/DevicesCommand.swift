import ArgumentParser
import Foundation
import AutoencoderKit

/// `autoencoder devices`: what the program can run on, and what `auto` picks.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the CPU backend and every OpenCL device, and say which one `auto` uses.")

    func run() throws {
        let choice = Devices.automaticChoice()
        for info in Devices.available() {
            let memory = String(format: "%.1f GiB", Double(info.memoryBytes) / Double(1 << 30))
            let marker = info.selector == choice.description ? "  <- auto" : ""
            print("\(info.selector.padding(toLength: 10, withPad: " ", startingAt: 0)) \(info.name)\(marker)")
            print("           vendor: \(info.vendor); driver: \(info.driver); compute units: \(info.computeUnits); memory: \(memory)")
        }
        if let problem = Devices.openCLProblem {
            print("no OpenCL devices: \(problem)")
        }
    }
}
