import Foundation
import XCTest
import HoneModel
@testable import HoneLoading

/// `store:` in hone.yaml: local paths, remote stores through rclone, and URLs refused because they carry
/// a credential (validate's error never shows it).
final class StoreLocationTests: XCTestCase {
    func remote(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> RemoteStoreURL? {
        guard case .success(.remote(let url)) = StoreLocation.parse(text) else {
            XCTFail("\(text) should parse as a remote store, got \(StoreLocation.parse(text))", file: file, line: line); return nil
        }
        return url
    }

    func testLocalPathsStayLocal() {
        XCTAssertEqual(try StoreLocation.parse(".hone/store").get(), .local(".hone/store"))
        XCTAssertEqual(try StoreLocation.parse("/shared/hone/store").get(), .local("/shared/hone/store"))
        XCTAssertEqual(try StoreLocation.parse("file:///shared/store").get(), .local("/shared/store"))
    }

    func testEachBackendMapsToItsRclonePath() {
        XCTAssertEqual(remote("s3://models-bucket/team/hone")?.rclonePath, ":s3:models-bucket/team/hone")
        XCTAssertEqual(remote("s3://models-bucket/")?.rclonePath, ":s3:models-bucket")
        XCTAssertEqual(remote("gs://b/p")?.rclonePath, ":gcs:b/p")
        XCTAssertEqual(remote("azure://container/p")?.rclonePath, ":azureblob:container/p")
        let sftp = remote("sftp://hone@127.0.0.1:2222/srv/store")
        XCTAssertEqual(sftp?.rclonePath, ":sftp:/srv/store")
        XCTAssertEqual(sftp?.rcloneFlags, ["--sftp-host", "127.0.0.1", "--sftp-port", "2222", "--sftp-user", "hone"])
        XCTAssertEqual(remote("sftp://host/~/store")?.rclonePath, ":sftp:store")
        XCTAssertEqual(remote("rclone:team-store:models/hone")?.rclonePath, "team-store:models/hone")
        XCTAssertEqual(remote("rclone::webdav,url=https://dav.example.com:hone")?.rclonePath, ":webdav,url=https://dav.example.com:hone")
        XCTAssertEqual(remote("s3://b/p")?.rclonePath(of: "sha256/ab/model.bin"), ":s3:b/p/sha256/ab/model.bin")
        XCTAssertEqual(remote("rclone:r:")?.rclonePath(of: "sha256/ab"), "r:sha256/ab")
    }

    func testCredentialsInTheURLAreRefusedWithoutQuotingThem() {
        let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
        for text in ["s3://AKIAIOSFODNN7:\(secret)@bucket/p", "s3://\(secret)@bucket", "sftp://hone:\(secret)@host/srv",
                     "s3://AKIA:ab/\(secret)@bucket/p", "azure://container/p?sv=2020&sig=\(secret)",
                     "rclone::s3,secret_access_key=\(secret):bucket", "rclone::azureblob,key=\(secret):c",
                     "rclone::webdav,url=https://u:\(secret)@dav.example.com:p"] {
            guard case .failure(let problem) = StoreLocation.parse(text) else { XCTFail("\(text) should be refused"); continue }
            guard case .credential(let message) = problem else { XCTFail("\(text): \(problem) should be a credential problem"); continue }
            XCTAssertFalse(message.contains(secret), message)
            XCTAssertTrue(message.contains("environment"), message)
        }
    }

    func testMalformedStoresSayWhatToWrite() {
        for (text, says) in [("http://example.com/store", "unknown store scheme \"http\""), ("s3://", "names no bucket"),
                             ("s3://Bucket_Upper/p", "not a valid bucket name"), ("s3://b/../x", "\"..\""),
                             ("sftp://host:99999/x", "not a port number"), ("rclone:nocolon", "names no rclone remote"),
                             ("s3://b/p?region=eu", "takes no query string"), ("", "is empty"), ("s3:bucket/p", "is not a URL: write s3://")] {
            guard case .failure(let problem) = StoreLocation.parse(text) else { XCTFail("\(text) should be refused"); continue }
            XCTAssertTrue(problem.message.contains(says), "\(text): \(problem.message)")
        }
    }

    func testValidateReportsTheStoreAtItsPlaceWithTheSecretMasked() {
        let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
        let project = validRepository["hone.yaml"]!.replacingOccurrences(of: "owner: ml-platform\n", with: "owner: ml-platform\nstore: s3://AKIAIOSFODNN7:\(secret)@bucket/hone\n")
        let result = check(["hone.yaml": project], [Expect("hone.yaml", 5, 8, "carries a credential")])
        XCTAssertNil(result.desired.project, "a project whose store is refused runs nothing")
        let text = result.diagnostics.map(\.description).joined(separator: "\n")
        XCTAssertFalse(text.contains(secret), text)
        XCTAssertTrue(text.contains("store: s3://AKIAIOSFODNN7:***@bucket/hone"), text)
        check(["hone.yaml": project.replacingOccurrences(of: "AKIAIOSFODNN7:\(secret)@", with: "")], [])
    }

    func testExcerptsMaskURLCredentialsWhateverTheKey() {
        XCTAssertEqual(SecretExcerpt.masked("uri: https://user:hunter22@host/x"), "uri: https://user:***@host/x")
        XCTAssertEqual(SecretExcerpt.masked("store: s3://AKIAKEYONLY@bucket"), "store: s3://***@bucket")
        XCTAssertEqual(SecretExcerpt.masked("store: sftp://hone@host/x"), "store: sftp://hone@host/x")
        XCTAssertEqual(SecretExcerpt.masked("store: azure://c/p?sv=1&sig=abcdef123"), "store: azure://c/p?sv=1&sig=***")
        XCTAssertEqual(SecretExcerpt.masked("store: rclone::s3,secret_access_key=abcdef123:b"), "store: rclone::s3,secret_access_key=***:b")
    }

    func testRcloneCredentialVariablesAreRedacted() {
        let env = ["RCLONE_CONFIG_TEAM_SECRET_ACCESS_KEY": "s3-secret-value", "RCLONE_CONFIG_TEAM_KEY": "azure-key-value",
                   "RCLONE_CONFIG_BOX_PASS": "obscured-pass", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                   "RCLONE_CONFIG_TEAM_ENDPOINT": "http://127.0.0.1:9000", "RCLONE_SFTP_KEY_FILE": "/home/u/.ssh/id_ed25519"]
        let r = SecretRedactor.forEnvironment(env)
        let text = env.values.joined(separator: " ")
        let redacted = r.redact(text)
        for v in ["s3-secret-value", "azure-key-value", "obscured-pass", "AKIAIOSFODNN7EXAMPLE"] { XCTAssertFalse(redacted.contains(v), redacted) }
        XCTAssertTrue(redacted.contains("http://127.0.0.1:9000") && redacted.contains("/home/u/.ssh/id_ed25519"), redacted)
    }
}
