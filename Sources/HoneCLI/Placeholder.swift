import ArgumentParser

public struct HoneCommand: ParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(commandName: "hone", abstract: "GitOps for fine-tuning language models.", version: "0.1.0")
}
