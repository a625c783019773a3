import Foundation
import HoneModel

/// Renderings of a Plan. Each is a pure function of the plan; none decides anything.
public enum PlanViews {
    static let order: [ActionKind] = [.create, .rerun, .cancel, .publish, .deferred, .poll, .blocked, .prune]

    public static func money(_ d: Double) -> String { String(format: "$%.2f", d) }

    /// "3 to create, 1 to rerun, 2 blocked, est. cost $4.20".
    public static func summary(_ plan: Plan) -> String {
        var parts: [String] = []
        for a in order {
            let n = plan.count(a)
            guard n > 0 else { continue }
            switch a {
            case .create, .rerun, .cancel, .publish, .poll, .prune: parts.append("\(n) to \(a.rawValue)")
            case .blocked: parts.append("\(n) blocked")
            case .deferred: parts.append("\(n) to publish on merge")
            case .noop: break
            }
        }
        if parts.isEmpty { parts.append("nothing to do") }
        let noop = plan.count(.noop)
        if noop > 0 { parts.append("\(noop) unchanged") }
        var cost = "est. cost \(money(plan.estimatedCost))"
        if plan.unknownCostCount > 0 { cost += " + \(plan.unknownCostCount) of unknown cost" }
        parts.append(cost)
        if !plan.errors.isEmpty { parts.append("\(plan.errors.count) error\(plan.errors.count == 1 ? "" : "s")") }
        return parts.joined(separator: ", ")
    }

    static func costText(_ a: PlannedAction) -> String {
        guard a.startsWork else { return "" }
        if let c = a.costEstimate { return c == 0 ? "$0" : "≤ " + money(c) }
        return "?"
    }

    // MARK: text

    public static func text(_ plan: Plan, showUnchanged: Bool = false) -> String {
        var out = ""
        for d in plan.errors { out += d.description + "\n" }
        let rows = plan.actions.filter { showUnchanged || $0.action != .noop }
            .sorted { (order.firstIndex(of: $0.action) ?? 99, $0.key) < (order.firstIndex(of: $1.action) ?? 99, $1.key) }
        if !rows.isEmpty {
            let w0 = rows.map { $0.key.display.count }.max() ?? 0
            let w1 = max(7, rows.map { $0.action.rawValue.count }.max() ?? 0)
            // `Run`, `Eval`, `View` fit in 4; a longer kind (`Playground`) widens the column.
            let wk = max(4, rows.map { $0.kindName.count }.max() ?? 0)
            for a in rows {
                let cost = costText(a)
                out += "  \(a.action.symbol) \(a.key.display.padding(toLength: w0, withPad: " ", startingAt: 0))  \(a.kindName.padding(toLength: wk, withPad: " ", startingAt: 0))  \(a.action.rawValue.padding(toLength: w1, withPad: " ", startingAt: 0))  \(TerminalText.escaped(a.reason))\(cost.isEmpty ? "" : "  [\(cost)]")\n"
                for g in a.gates { out += "      gate: \(TerminalText.escaped(g))\n" }
            }
        }
        out += summary(plan) + "\n"
        return out
    }

    // MARK: JSON (specs/cli-plan.md; stable)

    /// The document `hone plan --format json` prints.
    public static func document(_ plan: Plan) -> PlanDocument { PlanDocument(plan) }

    /// The same document as a generic value (tests, the fuzzer).
    public static func json(_ plan: Plan) -> JSONValue {
        (try? JSONValue.parse(Data(PlanDocument(plan).jsonText()))) ?? .null
    }

    // MARK: markdown (a pull-request comment)

    public static let markdownLimit = 65_000

    public static func markdown(_ plan: Plan, title: String = "hone plan") -> String {
        var head = "### \(title)\n\n**\(summary(plan))**\n\n"
        if !plan.errors.isEmpty {
            head += "#### ❌ Errors\n\n" + Markdown.codeBlock(plan.errors.map(\.description).joined(separator: "\n")) + "\n"
        }
        let changes = plan.actions.filter { $0.action != .noop }
        if changes.isEmpty {
            head += "No changes: every run and eval matches its recorded state.\n"
            return head
        }
        var groups: [String: [PlannedAction]] = [:]
        for a in changes { groups[a.key.scope.folder, default: []].append(a) }
        var body = ""
        var omitted = 0
        let budget = markdownLimit - head.count - 400   // room for the closing note
        for g in groups.keys.sorted() {
            let rows = groups[g]!.sorted { (order.firstIndex(of: $0.action) ?? 99, $0.key) < (order.firstIndex(of: $1.action) ?? 99, $1.key) }
            let heading = "#### `\(g)`\n\n"
            let tableHead = "| | object | kind | action | reason | cost |\n|---|---|---|---|---|---|\n"
            let collapse = rows.count > 20
            let open = collapse ? "<details><summary>\(rows.count) actions</summary>\n\n" : ""
            let close = collapse ? "\n</details>\n\n" : "\n"
            guard body.count + heading.count + open.count + tableHead.count + close.count < budget else { omitted += rows.count; continue }
            var table = ""
            var shown = 0
            for a in rows {
                let line = "| \(a.action.symbol) | `\(a.key.name)` | \(a.kindName) | **\(a.action.rawValue)** | \(Markdown.cell(a.reason))\(a.gates.isEmpty ? "" : "<br>gates: " + a.gates.map { "`\(Markdown.cell($0))`" }.joined(separator: ", ")) | \(costText(a)) |\n"
                if body.count + heading.count + open.count + tableHead.count + table.count + line.count + close.count >= budget { break }
                table += line
                shown += 1
            }
            omitted += rows.count - shown
            body += heading + open + tableHead + table + close
        }
        if omitted > 0 {
            body += "_\(omitted) more action\(omitted == 1 ? "" : "s") left out to keep this comment under \(markdownLimit) characters: run `hone plan` to see them all._\n"
        }
        return head + body
    }
}

/// Text for a cell of a markdown table (plan comments, compare reports, `--format markdown` lists).
package enum Markdown {
    /// A `|` would end the cell and a line break the row.
    /// Control characters are escaped (the comment is also read raw, in a CI log).
    package static func cell(_ s: String) -> String {
        TerminalText.escaped(s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " "))
    }

    /// A fenced code block that its text cannot close: the fence is longer than any run of
    /// backquotes in it.
    package static func codeBlock(_ s: String) -> String {
        var longest = 0, run = 0
        for c in s.utf8 { run = c == UInt8(ascii: "`") ? run + 1 : 0; longest = max(longest, run) }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return fence + "\n" + s + "\n" + fence + "\n"
    }
}
