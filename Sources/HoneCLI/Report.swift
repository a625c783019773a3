import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneQueries

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a static HTML report: groups, runs with training curves, evals with metrics and comparisons.",
        discussion: """
        The pages are self-contained (inline CSS and SVG charts, no scripts, nothing fetched): open DIR/index.html \
        in a browser or publish the folder as it is. Running it again overwrites the pages.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var refOption: RefOption
    @Option(help: ArgumentHelp("The folder to write (default: hone-report/ in the current directory).", valueName: "DIR")) var out: String = "hone-report"

    func run() throws {
        let ws = try repo.workspace()
        let paths = try EvalAnalysis.report(ws, ref: refOption.ref, out: URL(fileURLWithPath: out))
        print("wrote \(paths.count) pages to \(out): open \((out as NSString).appendingPathComponent("index.html"))")
    }
}
