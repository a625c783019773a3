import Foundation
import XCTest
import HoneLoading
import HoneModel
import YAML

/// `hone report` as a browser shows it: headless chromium (Debian's, installed by scripts/install-deps.sh
/// --test) at 1280 px. The page is measured by a copy of it with a script added (the report itself has
/// none): the page never scrolls sideways, names in first columns stay on one line, charts are drawn;
/// and a screenshot is taken at 1280 px.
final class ReportPageTests: XCTestCase {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func chromium(_ args: [String], in dir: URL) throws -> (status: Int32, out: String, err: String) {
        guard let exe = ReportPageTests.chromium else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("chromium is needed: run scripts/install-deps.sh --test") }
            throw XCTSkip("chromium not installed (scripts/install-deps.sh --test installs it)")
        }
        let profile = dir.appendingPathComponent("chromium-profile").path
        return try Exec.run(exe, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                  "--user-data-dir=\(profile)", "--window-size=1280,2000"] + args, in: dir)
    }

    /// A group with long names, many params and metrics (wider than the page), a count, a negative metric.
    func wideRepository() throws -> AnalysisRepo {
        let repo = try AnalysisRepo()
        let params = (1...8).map { "  hyperparameter_\($0): \(Double($0) / 1000)" }.joined(separator: "\n")
        repo.write("groups/g/evals/a-rather-long-evaluation-name.yaml",
                   "kind: Eval\nmodel: base@v1\nhandler: python3 eval.py\ndataset: test@v1\nbaseline: a\nparams:\n\(params)\n")
        repo.evalStatus("a-rather-long-evaluation-name", metrics: Dictionary(uniqueKeysWithValues: (1...10).map { ("quality_measure_\($0)", JSONValue.double(-Double($0) / 7)) })
                        .merging(["accuracy": .double(0.66), "samples": .int(3)]) { a, _ in a }, rows: nil)
        try repo.commit("a wide eval")
        return repo
    }

    func testTheReportFitsA1280PixelWindow() throws {
        let repo = try wideRepository()
        let out = repo.root.appendingPathComponent("site")
        let r = try Exec.run(Exec.hone, ["report", "--out", out.path, "-C", repo.path], in: repo.root)
        XCTAssertEqual(r.status, 0, r.err)
        let page = try String(contentsOf: out.appendingPathComponent("group-g.html"), encoding: .utf8)

        // The measuring copy: the page's own markup, plus a script that writes its findings into the DOM.
        let probe = """
        <script>
        const name = [...document.querySelectorAll('td.name')].filter(td => {
          const r = document.createRange(); r.selectNodeContents(td);
          return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size > 1;
        }).map(td => td.textContent);
        const out = {scrollWidth: document.documentElement.scrollWidth, wrapped: name,
                     svgs: document.querySelectorAll('svg').length, tables: document.querySelectorAll('.scroll > table').length};
        document.body.setAttribute('data-probe', JSON.stringify(out));
        </script>
        """
        let measured = out.appendingPathComponent("measure-group-g.html")
        try Data(page.replacingOccurrences(of: "</body>", with: probe + "</body>").utf8).write(to: measured)
        let dom = try chromium(["--dump-dom", measured.absoluteString], in: repo.root)
        XCTAssertEqual(dom.status, 0, dom.err)
        let attr = try XCTUnwrap(dom.out.range(of: "data-probe=\"").map { dom.out[$0.upperBound...] }?.prefix { $0 != "\"" }, dom.out)
        let json = try JSONValue.parse(Data(String(attr).replacingOccurrences(of: "&quot;", with: "\"").utf8))
        XCTAssertLessThanOrEqual(try XCTUnwrap(json["scrollWidth"]?.doubleValue), 1280, "the page does not scroll sideways at 1280 px")
        XCTAssertEqual(json["wrapped"], .array([]), "names in first columns stay on one line")
        XCTAssertGreaterThanOrEqual(json["svgs"]?.doubleValue ?? 0, 4, "the charts are drawn")
        XCTAssertGreaterThanOrEqual(json["tables"]?.doubleValue ?? 0, 3, "every table is in its scrolling box")

        // The negative metric's bars: labels left of bars that grow left from a zero line.
        XCTAssertTrue(page.contains("<line x1="), "a zero line where values are negative")
        XCTAssertTrue(page.contains("text-anchor=\"end\">-0.142857</text>"), "a negative value's label sits left of its bar")
        // The count is in the comparison's table, and not charted.
        XCTAssertFalse(page.contains("aria-label=\"samples (higher is better)\""))

        // The screenshot a person would look at (kept next to the report for the test's log).
        let shot = out.appendingPathComponent("group-g.png")
        let s = try chromium(["--screenshot=\(shot.path)", out.appendingPathComponent("group-g.html").absoluteString], in: repo.root)
        XCTAssertEqual(s.status, 0, s.err)
        let png = try Data(contentsOf: shot)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 1280)
    }

    func testHistorySparklinesSayTheirValues() throws {
        let repo = try AnalysisRepo()
        repo.evalStatus("a", attempt: 2, metrics: ["accuracy": .double(0.625)], rows: nil)
        try repo.commit("attempt 2")
        let r = try Exec.run(Exec.hone, ["history", "g/a", "-o", "html", "-C", repo.path], in: repo.root)
        XCTAssertEqual(r.status, 0, r.err)
        let svg = try XCTUnwrap(r.out.range(of: "aria-label=\"accuracy\"").map { String(r.out[$0.lowerBound...].prefix(1500)) })
        XCTAssertTrue(svg.contains(">0.5</text>") && svg.contains(">0.625</text>"), "first and last values beside the line: \(svg)")
    }
}
