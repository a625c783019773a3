import Foundation
import XCTest
@testable import HoneExecutors
#if canImport(Glibc)
import Glibc
#endif

/// A debug session on the local executor, against a REAL JupyterLab (installed by the job script into its
/// debug layer, from the wheels scripts/install-deps.sh --test downloads, else PyPI: the first run takes a minute, later ones reuse the layer cached under
/// $TMPDIR/hone-debug-layer-cache). No stub server: every check is an HTTP request or a kernel execution.
final class DebugSessionTests: XCTestCase {
    let password = "correct-horse-battery-staple-42"
    var root: URL!
    var executor: LocalExecutor!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hone-debug-\(UUID().uuidString.prefix(8))")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("hone-debug-layer-cache")
        executor = LocalExecutor(jobsRoot: root.appendingPathComponent("jobs"), runtimeCache: cache)
        // The wheels scripts/install-deps.sh --test downloads: the job's pip (which inherits this environment)
        // finds JupyterLab there first.
        let wheels = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/hone/wheels/jupyterlab")
        if FileManager.default.fileExists(atPath: wheels.path) { setenv("PIP_FIND_LINKS", wheels.path, 1) }
    }

    override func tearDownWithError() throws {
        try? executor.cancel(id: "dbg")
        try? FileManager.default.removeItem(at: root)
    }

    /// `curl` as the oracle: the status code of a request, with or without the token.
    func http(_ path: String, port: Int, token: String?, method: String = "GET") -> (code: Int, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "-m", "10", "-X", method, "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"]
            + (token.map { ["-H", "Authorization: token \($0)"] } ?? [])
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return (0, "") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func poll(_ timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(200_000)
        }
        return condition()
    }

    /// Live processes whose command line contains `text` (Linux /proc).
    func processes(containing text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty,
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"), !stat[stat.index(after: close)...].hasPrefix(" Z") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }

    func testJupyterLabSessionInTheJobsEnvironmentUntilReleased() throws {
        let dir = executor.jobDirectory(for: "dbg")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("src"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        try #"{"id": "dbg", "inputs": {"dataset": "/data/d@v1"}}"#.write(to: dir.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        try #"python3 -c 'import json, os; j = json.load(open(os.environ["HONE_JOB"])); json.dump({"ran": j["id"]}, open("../out/summary.json", "w"))'"#
            .write(to: dir.appendingPathComponent("src/handler.sh"), atomically: true, encoding: .utf8)
        var job = JobSpec(id: "dbg", object: "g/e", task: "evaluate", command: "bash handler.sh",
                          environment: ["HONE_JOB": dir.appendingPathComponent("job.json").path],
                          secretEnvironment: ["MY_DEBUG_PW": password])
        job.debugSession = DebugSession(passwordVariable: "MY_DEBUG_PW")
        _ = try executor.launch(job)

        // The server comes up (the first time after pip installs JupyterLab into the layer).
        let portFile = dir.appendingPathComponent("debug/port")
        var port = 0
        XCTAssertTrue(poll(300) {
            port = Int((try? String(contentsOf: portFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            return port > 0 && http("/api/status", port: port, token: password).code == 200
        }, "no server answered; log:\n" + ((try? String(contentsOf: executor.logFile(for: "dbg"), encoding: .utf8)) ?? ""))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/summary.json").path),
                       "the handler must not start by itself in a debug session")

        // 403 without the token and with a wrong one; 200 with it, listing the snapshot's files.
        XCTAssertEqual(http("/api/contents/src", port: port, token: nil).code, 403)
        XCTAssertEqual(http("/api/contents/src", port: port, token: "wrong-token-123456").code, 403)
        let listing = http("/api/contents/src", port: port, token: password)
        XCTAssertEqual(listing.code, 200)
        XCTAssertTrue(listing.body.contains("\"handler.sh\""), listing.body)

        // A kernel started by the server runs code in the job's environment: it reads job.json through
        // HONE_JOB, and `hone-handler` (on its PATH) runs the handler as hone would.
        let kernel = http("/api/kernels", port: port, token: password, method: "POST")
        XCTAssertEqual(kernel.code, 201, kernel.body)
        let kernelId = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(kernel.body.utf8)) as? [String: Any])?["id"] as? String)
        let connection = dir.appendingPathComponent("debug/runtime/kernel-\(kernelId).json")
        XCTAssertTrue(poll(60) { fm.fileExists(atPath: connection.path) }, "no connection file at \(connection.path)")
        let layerPython = executor.runtimeCache.appendingPathComponent(DebugSession(passwordVariable: "x").layerDigest).appendingPathComponent("bin/python")
        let client = Process()
        client.executableURL = layerPython
        client.arguments = ["-c", """
            import sys
            from jupyter_client import BlockingKernelClient
            c = BlockingKernelClient(connection_file=sys.argv[1]); c.load_connection_file(); c.start_channels()
            c.wait_for_ready(timeout=60)
            out = []
            code = "import json, os, subprocess; print('id=' + json.load(open(os.environ['HONE_JOB']))['id']); print('handler=%d' % subprocess.run(['hone-handler']).returncode)"
            c.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(m['content'].get('text', '')))
            print(''.join(out))
            """, connection.path]
        let pipe = Pipe()
        client.standardOutput = pipe
        try client.run()
        let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        client.waitUntilExit()
        XCTAssertTrue(printed.contains("id=dbg"), printed)
        XCTAssertTrue(printed.contains("handler=0"), printed)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("out/summary.json"), encoding: .utf8), #"{"ran": "dbg"}"#)

        // The password is on no process's command line while the session runs.
        XCTAssertEqual(processes(containing: password), [])

        // Released (`hone debug --end`, or the release time): the job ends with everything it started.
        try executor.release(id: "dbg")
        var end: JobEnd?
        XCTAssertTrue(poll(30) {
            if case .finished(let e)? = try? executor.poll(id: "dbg") { end = e; return true }
            return false
        })
        XCTAssertEqual(end?.outcome, .released)
        XCTAssertNotEqual(http("/api/status", port: port, token: password).code, 200, "the endpoint still answers")
        XCTAssertTrue(poll(10) { self.processes(containing: "--port=\(port)").isEmpty }, "the server outlived the release")
        XCTAssertFalse(executor.scriptProcessAlive(id: "dbg"))

        // The password is in no file of the job folder (run.sh, the log, Jupyter's own files).
        let enumerator = fm.enumerator(atPath: dir.path)
        while let path = enumerator?.nextObject() as? String {
            let url = dir.appendingPathComponent(path)
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = fm.contents(atPath: url.path) else { continue }
            XCTAssertNil(data.range(of: Data(password.utf8)), "the password is in \(path)")
        }
    }
}
