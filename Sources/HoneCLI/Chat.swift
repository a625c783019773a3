import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

/// `hone chat G/P [G/P2 …] "prompt"`: one prompt to one or more playgrounds, the answers side by side
/// with latency and token counts (specs/cli.md, "chat"; specs/playground.md).
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a prompt to one or more playgrounds and print the answers side by side.",
        discussion: """
        The last argument is the prompt; the ones before it name playgrounds (G/NAME). With one argument \
        (a playground and no prompt) hone reads prompts line by line: on a terminal as a conversation that \
        keeps its history (an empty line or end of input stops), else each line of standard input as a \
        prompt. A playground must be running and ready (`hone get playgrounds`); a released, not-ready or \
        unreachable one is an error naming it, and the others still answer. A playground with apiKeyEnv \
        gets the key from that variable here (never printed).
        """)

    @OptionGroup var repo: RepoOptions
    @Argument(help: ArgumentHelp("Playgrounds (G/NAME …), then the prompt.", valueName: "G/P … PROMPT")) var words: [String]
    @Option(help: "A system message sent before the prompt.") var system: String?
    @Option(help: ArgumentHelp("Sampling temperature, 0 to 2 (0: greedy).", valueName: "T")) var temperature: Double?
    @Option(help: ArgumentHelp("At most this many tokens in each answer (1 to 4096).", valueName: "N")) var maxTokens: Int?
    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.") var format: DiagnosticFormat = .text
    @Option(help: ArgumentHelp("Seconds to wait for each answer.", valueName: "S")) var timeout: Double = 60

    var addresses: [String] { words.count > 1 ? Array(words.dropLast()) : words }
    var prompt: String? { words.count > 1 ? words.last : nil }

    func validate() throws {
        guard !words.isEmpty else { throw ValidationError("name a playground: hone chat G/P \"prompt\"") }
        if let t = temperature, !(0...2).contains(t) { throw ValidationError("--temperature must be between 0 and 2") }
        if let n = maxTokens, !(1...4096).contains(n) { throw ValidationError("--max-tokens must be between 1 and 4096") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        let load = try repo.workspace().load(ref: nil)
        let targets = addresses.map { ChatTarget.resolve($0, in: load) }
        guard let prompt else { return try conversation(targets) }
        let answers = ask(targets, histories: targets.map { _ in [] }, prompt: prompt)
        print(render(answers, prompt: prompt), terminator: "")
        if answers.contains(where: { $0.error != nil }) { throw ExitCode.failure }
    }

    /// Prompts read line by line; each playground keeps its own history of the conversation.
    func conversation(_ targets: [ChatTarget]) throws {
        let interactive = isatty(0) == 1
        var histories: [[(role: String, content: String)]] = targets.map { _ in [] }
        var failed = false
        while true {
            if interactive { Terminal.write("> ", to: .standardError) }
            guard let line = readLine(), !(interactive && line.isEmpty) else { break }
            if line.isEmpty { continue }
            let answers = ask(targets, histories: histories, prompt: line)
            print(render(answers, prompt: line), terminator: "")
            for (i, a) in answers.enumerated() where a.error == nil {
                histories[i] += [("user", line), ("assistant", a.content)]
            }
            failed = failed || answers.contains { $0.error != nil }
        }
        if failed { throw ExitCode.failure }
    }

    /// The same prompt to every target at once; answers in the targets' order.
    func ask(_ targets: [ChatTarget], histories: [[(role: String, content: String)]], prompt: String) -> [ChatAnswer] {
        var messages: [[JSONValue]] = histories.map { h in h.map { JSONValue.object(["role": .string($0.role), "content": .string($0.content)]) } }
        for i in messages.indices {
            if let system { messages[i].insert(.object(["role": .string("system"), "content": .string(system)]), at: 0) }
            messages[i].append(.object(["role": .string("user"), "content": .string(prompt)]))
        }
        let results = ChatAnswerBox(count: targets.count)
        let (temperature, maxTokens, timeout) = (self.temperature, self.maxTokens, self.timeout)
        let messageLists = messages
        DispatchQueue.concurrentPerform(iterations: targets.count) { i in
            results.set(i, targets[i].ask(messages: messageLists[i], temperature: temperature, maxTokens: maxTokens, timeout: timeout))
        }
        return results.values
    }

    func render(_ answers: [ChatAnswer], prompt: String) -> String {
        switch format {
        case .json:
            let doc = JSONValue.object(["apiVersion": .string("hone.chat/v1"), "prompt": .string(prompt), "answers": .array(answers.map(\.json))])
            return doc.prettyJSON + "\n"
        case .text:
            if answers.count == 1 { return answers[0].block.joined(separator: "\n") + "\n" }
            return SideBySide.render(answers.map(\.block), width: Terminal.width ?? 160)
        }
    }
}

/// A playground `hone chat` talks to, or why it cannot.
struct ChatTarget: Sendable {
    var name: String
    var endpoint: String?
    var model: String?
    var bearer: String?
    var problem: String?

    static func resolve(_ text: String, in load: LoadResult) -> ChatTarget {
        var t = ChatTarget(name: text)
        let key: ObjectKey
        do { key = try ObjectAddress.parse(text).resolve(in: load, only: .playground) } catch { t.problem = "\(error)"; return t }
        t.name = key.display
        let spec = load.desired.playgrounds[key]
        guard let s = load.recorded.statuses[key], let p = s.playground else {
            t.problem = spec == nil ? "\(key.display) has no playground spec" : "\(key.display) has not started yet: run `hone reconcile`"
            return t
        }
        t.model = p.model
        switch s.phase {
        case .pending:
            t.problem = "\(key.display) is starting (pending): wait, or run `hone reconcile --wait`"
        case .running where !p.ready:
            t.problem = "\(key.display) is starting (not ready yet at \(p.endpoint ?? "?")): wait, or run `hone reconcile --wait`"
        case .running:
            t.endpoint = p.endpoint
        case .succeeded, .failed, .cancelled:
            let why = s.events.last { ["AutoReleased", "IdleReleased", "Deleted", "NotReady", "Failed", "Superseded"].contains($0.reason) }
            t.problem = "\(key.display) is not serving: \(why.map { "\($0.reason) at \($0.at): \($0.message.split(separator: "\n").first ?? "")" } ?? s.phase.rawValue.lowercased())"
                + (spec != nil ? "; start it again with `hone rerun \(key.display)`, commit and reconcile" : "")
        }
        if let variable = spec?.apiKeyEnv {
            t.bearer = ProcessInfo.processInfo.environment[variable]
            if t.bearer?.isEmpty ?? true, t.problem == nil { t.problem = "\(key.display) needs the key in \(variable), which is not set here" }
        }
        return t
    }

    func ask(messages: [JSONValue], temperature: Double?, maxTokens: Int?, timeout: Double) -> ChatAnswer {
        var a = ChatAnswer(playground: name, model: model, endpoint: endpoint)
        if let problem { a.error = problem; return a }
        var body: [String: JSONValue] = ["messages": .array(messages)]
        if let temperature { body["temperature"] = .double(temperature) }
        if let maxTokens { body["max_tokens"] = .int(maxTokens) }
        let started = Date()
        do {
            let r = try PlaygroundClient.request("POST", endpoint!, path: "/v1/chat/completions", body: Array(JSONValue.object(body).canonicalJSON.utf8),
                                                 bearer: bearer, timeout: timeout)
            a.latency = Date().timeIntervalSince(started)
            let doc = try? JSONValue.parse(Data(r.body))
            guard r.status == 200, let choice = doc?["choices"]?.arrayValue?.first else {
                let message = doc?["error"]?["message"]?.stringValue ?? String(r.text.prefix(200))
                a.error = "\(name) answered HTTP \(r.status): \(message)"
                return a
            }
            a.content = choice["message"]?["content"]?.stringValue ?? ""
            a.finishReason = choice["finish_reason"]?.stringValue
            a.model = doc?["model"]?.stringValue ?? model
            a.promptTokens = (doc?["usage"]?["prompt_tokens"]?.doubleValue).map { Int($0) }
            a.completionTokens = (doc?["usage"]?["completion_tokens"]?.doubleValue).map { Int($0) }
        } catch {
            a.error = "cannot reach \(name): \(error)"
        }
        return a
    }
}

struct ChatAnswer: Sendable {
    var playground: String
    var model: String?
    var endpoint: String?
    var content = ""
    var finishReason: String?
    var latency: Double?
    var promptTokens: Int?
    var completionTokens: Int?
    var error: String?

    /// The lines shown for this answer: a header, the answer (or error), and the figures.
    var block: [String] {
        var lines = ["== \(playground)\(model.map { " (\($0))" } ?? "")"]
        if let error { return lines + ["error: \(error)"] }
        lines += content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tokens = [promptTokens.map { "\($0) prompt" }, completionTokens.map { "\($0) completion" }].compactMap { $0 }.joined(separator: " + ")
        lines.append("-- \(String(format: "%.2fs", latency ?? 0))\(tokens.isEmpty ? "" : ", \(tokens) tokens")\(finishReason.map { ", \($0)" } ?? "")")
        return lines
    }

    var json: JSONValue {
        func n(_ v: Int?) -> JSONValue { v.map(JSONValue.int) ?? .null }
        return .object([
            "playground": .string(playground), "model": model.map(JSONValue.string) ?? .null, "endpoint": endpoint.map(JSONValue.string) ?? .null,
            "content": error == nil ? .string(content) : .null, "finishReason": finishReason.map(JSONValue.string) ?? .null,
            "latencySeconds": latency.map { .double(($0 * 1000).rounded() / 1000) } ?? .null,
            "usage": .object(["promptTokens": n(promptTokens), "completionTokens": n(completionTokens),
                              "totalTokens": n(promptTokens.flatMap { p in completionTokens.map { p + $0 } })]),
            "error": error.map(JSONValue.string) ?? .null,
        ])
    }
}

/// Results written from several threads, each into its own slot.
final class ChatAnswerBox: @unchecked Sendable {
    private var slots: [ChatAnswer?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ a: ChatAnswer) { lock.withLock { slots[i] = a } }
    var values: [ChatAnswer] { lock.withLock { slots.map { $0! } } }
}

/// Columns of text next to each other, each wrapped to its share of the width.
enum SideBySide {
    static func render(_ blocks: [[String]], width: Int) -> String {
        let gap = 3
        let column = max(20, (width - gap * (blocks.count - 1)) / max(blocks.count, 1))
        let wrapped = blocks.map { $0.flatMap { wrap($0, column) } }
        let height = wrapped.map(\.count).max() ?? 0
        var out = ""
        for row in 0..<height {
            var line = ""
            for (i, b) in wrapped.enumerated() {
                let cell = row < b.count ? b[row] : ""
                line += i == wrapped.count - 1 ? cell : cell.padding(toLength: column, withPad: " ", startingAt: 0) + String(repeating: " ", count: gap)
            }
            out += line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        return out
    }

    static func wrap(_ line: String, _ width: Int) -> [String] {
        guard line.count > width else { return [line] }
        var out: [String] = [], rest = Substring(line)
        while rest.count > width {
            let cut = rest.prefix(width).lastIndex(of: " ").map { rest.distance(from: rest.startIndex, to: $0) } ?? width
            let n = cut == 0 ? width : cut
            out.append(String(rest.prefix(n)))
            rest = rest.dropFirst(n).drop { $0 == " " }
        }
        return out + [String(rest)]
    }
}
