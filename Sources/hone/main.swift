import ArgumentParser
import Foundation
import HoneCLI

// hone has two failure codes (specs/cli.md): 1 for any error (usage errors included), 2 for `plan
// --detailed-exitcode` changes. swift-argument-parser's usage errors exit 64: map them to 1.
do {
    var command = try HoneCommand.parseAsRoot()
    try command.run()
} catch {
    HoneCommand.exitRedacted(error)
}
