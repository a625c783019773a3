import Foundation
import HoneModel
import XCTest

/// A real S3 server on loopback for the remote-store tests: moto (`python3 -m moto.server`, installed by
/// scripts/install-deps.sh --test), reached through a TCP relay the test controls, so that "the network
/// goes away" (even in the middle of an upload) is a real lost connection while the server keeps its data.
final class S3TestServer {
    let motoPort: Int
    let relayPort: Int
    let base: URL
    private var moto: Process?
    private var relay: Process?
    let bucket = "hone-tests"
    /// Credentials the tests give hone (moto accepts any): they must never show up in what hone writes.
    let accessKey = "AKIAHONETEST7KEYID42"
    let secretKey = "hone-test-secret/Xq9vLw2Rr8TzPp4Nn6Mm"

    /// `checkingCredentials`: moto checks every request against its own IAM (where no key exists), so any
    /// credentials are refused — a real "bad credentials" server. No bucket is made then.
    init(checkingCredentials: Bool = false) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("hone-s3-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        motoPort = try freePort()
        relayPort = try freePort()
        moto = try spawn("/usr/bin/env", ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(motoPort)], log: "moto.log",
                         environment: checkingCredentials ? ["INITIAL_NO_AUTH_ACTION_COUNT": "0"] : [:])
        try waitForPort(motoPort, process: moto!, what: "moto (python3 -m moto.server; scripts/install-deps.sh --test installs it)")
        try startRelay()
        if checkingCredentials { return }
        let made = try rclone(["mkdir", ":s3:\(bucket)"])
        guard made.status == 0 else { throw FixtureError("rclone mkdir failed: \(made.output)") }
    }

    deinit {
        stopRelay()
        if let m = moto, m.isRunning { m.terminate(); m.waitUntilExit() }
        try? FileManager.default.removeItem(at: base)
    }

    /// What hone needs to reach the server (rclone's on-the-fly `:s3:` settings) — and the AWS_CA_BUNDLE trap
    /// of these machines, set on purpose: rclone 1.60 fails every S3 call while it is in its environment.
    var environment: [String: String] {
        var env = ["RCLONE_S3_PROVIDER": "Other", "RCLONE_S3_ENDPOINT": "http://127.0.0.1:\(relayPort)",
                   "RCLONE_S3_ACCESS_KEY_ID": accessKey, "RCLONE_S3_SECRET_ACCESS_KEY": secretKey]
        if FileManager.default.fileExists(atPath: "/etc/ssl/certs/ca-certificates.crt") { env["AWS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt" }
        return env
    }

    var secrets: [String] { [accessKey, secretKey] }

    /// The relay forwards to moto; with `cutAfter`, it drops every connection and stops listening once that
    /// many bytes went towards the server (and writes `cut` beside it).
    func startRelay(cutAfter bytes: Int = -1) throws {
        stopRelay()
        try? FileManager.default.removeItem(at: cutMarker)
        relay = try spawn("/usr/bin/env", ["python3", "-c", S3TestServer.relayScript, String(relayPort), String(motoPort), String(bytes), cutMarker.path], log: "relay.log")
        try waitForPort(relayPort, process: relay!, what: "the TCP relay")
    }

    func stopRelay() {
        if let r = relay, r.isRunning { r.terminate(); r.waitUntilExit() }
        relay = nil
    }

    var cutMarker: URL { base.appendingPathComponent("cut") }
    var wasCut: Bool { FileManager.default.fileExists(atPath: cutMarker.path) }

    /// rclone as the tests' oracle (straight to moto, not through the relay).
    func rclone(_ args: [String]) throws -> HoneRepo.Result {
        var env = ["RCLONE_S3_PROVIDER": "Other", "RCLONE_S3_ENDPOINT": "http://127.0.0.1:\(motoPort)",
                   "RCLONE_S3_ACCESS_KEY_ID": accessKey, "RCLONE_S3_SECRET_ACCESS_KEY": secretKey, "RCLONE_CONFIG": "/dev/null"]
        env["AWS_CA_BUNDLE"] = ""
        return try HoneRepo.exec("/usr/bin/env", ["-u", "AWS_CA_BUNDLE", "rclone"] + args, in: base, env: env)
    }

    /// The sha256 of an object in the bucket, or nil when it is not there.
    func sha256(of path: String) throws -> String? {
        let local = base.appendingPathComponent("get-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: local) }
        let r = try rclone(["copyto", ":s3:\(bucket)/\(path)", local.path])
        guard r.status == 0, FileManager.default.fileExists(atPath: local.path) else { return nil }
        return try ContentHash.hex(fileAt: local)
    }

    func objects(under prefix: String) throws -> [String] {
        try rclone(["lsf", "-R", "--files-only", ":s3:\(bucket)/\(prefix)"]).stdout.split(separator: "\n").map(String.init)
    }

    private func spawn(_ tool: String, _ args: [String], log: String, environment extra: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.currentDirectoryURL = base
        var env = ProcessInfo.processInfo.environment
        env["AWS_CA_BUNDLE"] = nil
        env.merge(extra) { $1 }
        p.environment = env
        let logURL = base.appendingPathComponent(log)
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let h = try FileHandle(forWritingTo: logURL)
        h.seekToEndOfFile()
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    static let relayScript = #"""
    import asyncio, os, sys
    listen, target, budget, marker = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    sent = 0
    async def pipe(r, w, towards_server):
        global sent
        try:
            while True:
                data = await r.read(65536)
                if not data:
                    break
                if towards_server and budget >= 0:
                    if sent + len(data) > budget:
                        open(marker, "w").write("cut")
                        os._exit(0)  # every connection drops, nothing listens any more: the network is gone
                    sent += len(data)
                w.write(data)
                await w.drain()
        except Exception:
            pass
        finally:
            try:
                w.close()
            except Exception:
                pass
    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", target)
        except Exception:
            cw.close()
            return
        await asyncio.gather(pipe(cr, sw, True), pipe(sr, cw, False))
    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_address=True)
        async with server:
            await server.serve_forever()
    asyncio.run(main())
    """#
}

/// A port nothing listens on now (bound once to port 0, then released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket: \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw FixtureError("bind: \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Polls until something accepts connections on the port (deadline 30 s), failing early if `process` died.
func waitForPort(_ port: Int, process: Process, what: String) throws {
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
        guard process.isRunning else { throw FixtureError("\(what) exited with status \(process.terminationStatus) before listening on \(port)") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if ok { return }
        usleep(50_000)
    }
    throw FixtureError("\(what) did not listen on 127.0.0.1:\(port) within 30 s")
}

/// A real sshd on a loopback port (Debian's openssh-server, installed by scripts/install-deps.sh --test)
/// with a host key and a user key made here, serving sftp for the current user.
final class SFTPTestServer {
    let base: URL
    let port: Int
    let user = NSUserName()
    private var pid: Int32 = 0

    /// `checkingCredentials`: moto checks every request against its own IAM (where no key exists), so any
    /// credentials are refused — a real "bad credentials" server. No bucket is made then.
    init(checkingCredentials: Bool = false) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("hone-sshd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        port = try freePort()
        for key in ["host_key", "user_key"] {
            let r = try HoneRepo.exec("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "hone-test", "-f", base.appendingPathComponent(key).path], in: base, env: [:])
            guard r.status == 0 else { throw FixtureError("ssh-keygen: \(r.output)") }
        }
        try FileManager.default.copyItem(at: base.appendingPathComponent("user_key.pub"), to: base.appendingPathComponent("authorized_keys"))
        let hostPub = try String(contentsOf: base.appendingPathComponent("host_key.pub"), encoding: .utf8)
        try Data("[127.0.0.1]:\(port) \(hostPub)".utf8).write(to: knownHosts)
        try Data("""
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(base.path)/host_key
            AuthorizedKeysFile \(base.path)/authorized_keys
            PidFile \(base.path)/sshd.pid
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            Subsystem sftp internal-sftp

            """.utf8).write(to: base.appendingPathComponent("sshd_config"))
        // sshd insists on its privilege separation folder.
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else {
            throw FixtureError("/usr/sbin/sshd is missing: scripts/install-deps.sh --test installs openssh-server")
        }
        // Started as a daemon (its pid in sshd.pid): the command returns once it listens.
        let log = base.appendingPathComponent("sshd.log")
        let r = try HoneRepo.exec("/usr/sbin/sshd", ["-f", base.appendingPathComponent("sshd_config").path, "-E", log.path], in: base, env: [:])
        guard r.status == 0 else { throw FixtureError("sshd: \(r.output) \((try? String(contentsOf: log, encoding: .utf8)) ?? "")") }
        try waitForFile(base.appendingPathComponent("sshd.pid"))
        pid = Int32((try String(contentsOf: base.appendingPathComponent("sshd.pid"), encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        guard pid > 1 else { throw FixtureError("sshd wrote no pid") }
    }

    deinit {
        if pid > 1 { kill(pid, SIGTERM) }
        try? FileManager.default.removeItem(at: base)
    }

    var knownHosts: URL { base.appendingPathComponent("known_hosts") }
    var storeFolder: URL { base.appendingPathComponent("store") }
    var store: String { "sftp://\(user)@127.0.0.1:\(port)\(storeFolder.path)" }
    var environment: [String: String] {
        ["RCLONE_SFTP_KEY_FILE": base.appendingPathComponent("user_key").path, "RCLONE_SFTP_KNOWN_HOSTS_FILE": knownHosts.path]
    }
}

func waitForFile(_ url: URL, timeout: TimeInterval = 30) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !FileManager.default.fileExists(atPath: url.path) {
        if Date() > deadline { throw FixtureError("\(url.path) did not appear within \(Int(timeout)) s") }
        usleep(20_000)
    }
}
