import Foundation
import HoneModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything a job starts ends with the job: a handler's `sleep 120 &`, or a `setsid` daemon, must not keep
/// running (and holding the job's files and resources) outside the pool's `maxParallel` once the job has
/// ended, been cancelled or been released.
///
/// Where a cgroup v2 can be created (the run.sh's own cgroup is writable), run.sh makes one per job
/// (`<its cgroup>/hone-<hash of the job directory>`, recorded in `<jobdir>/cgroup`) and runs runtime creation
/// and the handler inside it: no process can leave a cgroup by itself (setsid, double fork), so writing
/// `cgroup.kill` ends them all. (The local executor makes and removes that folder itself: a `mkdir` or
/// `rmdir` process in run.sh costs milliseconds per job.) run.sh and its log filter stay outside, so that they can end the rest and
/// record the exit code. Elsewhere (cgroup v1 only, a read-only /sys/fs/cgroup, no delegation) it falls
/// back to run.sh's session and process group (when it leads them, as under the local executor) and to
/// any process whose environment carries this job's `HONE_JOB`, which a setsid daemon keeps unless it
/// clears its environment.
///
/// run.sh ends them right after the handler ended, before it writes `exitcode` (so a job seen finished has
/// no process left), and again on any other way out it survives (a signal, a failed runtime); the
/// executor does the same (`end(in:)`) when it cancels a job or finds run.sh gone without a status.
public enum JobProcesses {
    /// The file of a job directory naming the job's cgroup (absent: the job has none).
    public static let cgroupFile = "cgroup"

    /// The name of a job's cgroup, unique per job directory (so two repositories' jobs of one id never share
    /// one) and short enough for any file system.
    static func cgroupName(jobDirectory: URL) -> String {
        "hone-" + String(ContentHash.hex(jobDirectory.standardizedFileURL.path).prefix(20))
    }

    /// Bash functions for run.sh: `hone_cgroup_create` (once, early), `hone_join` (first thing in a subshell
    /// that runs job code), `hone_end_processes` (idempotent). Needs `HONE_CGROUP_NAME` (empty: no cgroup),
    /// `HONE_CGROUP_HOME` (empty: found from /proc), `hone_put`, and `hone_sid`/`hone_pgid` (run.sh's session
    /// and group).
    static let shellFunctions = #"""
    hone_cgroup=
    hone_cgroup_home=
    hone_ended=0
    hone_cgroup_create() { # the job's cgroup beside this shell's own (cgroup v2 only; else nothing)
      [ -n "$HONE_CGROUP_NAME" ] || return 0
      hone_cgroup_home=$HONE_CGROUP_HOME  # the launcher's, when it is this shell's parent (saves 2 ms of loops)
      if [ -z "$hone_cgroup_home" ]; then
        local line own= mnt= _a _b _c root point rest
        { while IFS= read -r line; do case $line in 0::/*) own=${line#0::} ;; esac; done < /proc/self/cgroup; } 2>/dev/null
        { while read -r _a _b _c root point rest; do
            case " $rest " in *" - cgroup2 "*) [ "$root" = / ] && { mnt=$point; break; } ;; esac
          done < /proc/self/mountinfo; } 2>/dev/null
        [ -n "$own" ] && [ -n "$mnt" ] || return 0
        hone_cgroup_home=$mnt${own%/}
      fi
      local cg="$hone_cgroup_home/$HONE_CGROUP_NAME"
      [ -d "$cg" ] || mkdir -- "$cg" 2>/dev/null || return 0
      # Usable only if this shell can enter it and leave it again (delegation, the no-internal-process rule).
      if ! { echo $$ > "$cg/cgroup.procs"; } 2>/dev/null; then rmdir -- "$cg" 2>/dev/null; return 0; fi
      { echo $$ > "$hone_cgroup_home/cgroup.procs"; } 2>/dev/null || return 0
      hone_cgroup=$cg
      hone_put cgroup "$cg"
    }
    hone_join() { [ -z "$hone_cgroup" ] || { echo "$BASHPID" > "$hone_cgroup/cgroup.procs"; } 2>/dev/null; }
    hone_end_processes() { # ends what the job started and left running (run.sh and its log filter aside)
      [ "$hone_ended" = 0 ] || return 0  # done once the handler has ended: nothing of the job can start again
      hone_ended=1
      if [ -z "$hone_cgroup" ]; then hone_kill_strays; return 0; fi
      local i p _k populated=1
      for i in {1..100}; do  # at most about 5 s: a process in uninterruptible sleep dies when it wakes
        { read -r _k populated < "$hone_cgroup/cgroup.events"; } 2>/dev/null || populated=0
        [ "$populated" = 0 ] && break
        if ! { echo 1 > "$hone_cgroup/cgroup.kill"; } 2>/dev/null; then  # kernels before 5.14
          { while read -r p; do kill -KILL "$p"; done < "$hone_cgroup/cgroup.procs"; } 2>/dev/null
        fi
        [ "$i" = 1 ] || sleep 0.05
      done
      [ "$populated" = 0 ] && [ "$HONE_CGROUP_KEEP" = 0 ] && rmdir -- "$hone_cgroup" 2>/dev/null && hone_cgroup=
    }
    hone_tagged() { # /proc/PID: its environment carries this job's HONE_JOB (one mapfile: read's loop is slow)
      [ -n "${HONE_JOB-}" ] || return 1
      local -a vars
      local IFS=$'\001'
      { mapfile -d '' -t vars < "$1/environ"; } 2>/dev/null || return 1
      [[ "$IFS${vars[*]}$IFS" == *"${IFS}HONE_JOB=$HONE_JOB$IFS"* ]]
    }
    hone_kill_strays() { # without a cgroup: run.sh's session and group (when it leads them), and HONE_JOB's carriers
      local round d pid stat found f close=') '
      for round in 1 2 3; do
        found=0
        for d in /proc/[0-9]*; do
          pid=${d#/proc/}
          if [ "$pid" = "$$" ] || [ "$pid" = "${hone_filter-}" ]; then continue; fi
          { read -r stat < "$d/stat"; } 2>/dev/null || continue
          f=(${stat##*"$close"})  # state ppid pgrp session ...
          [ "${f[0]}" = Z ] && continue
          if { [ "$hone_sid" = "$$" ] && [ "${f[3]}" = "$$" ]; } || { [ "$hone_pgid" = "$$" ] && [ "${f[2]}" = "$$" ]; } \
             || hone_tagged "$d"; then
            kill -KILL "$pid" 2>/dev/null && found=1
          fi
        done
        [ "$found" = 1 ] || break
      done
    }
    """#

    /// The cgroup v2 folder this process is in, when the cgroup2 file system is mounted at its root (as
    /// run.sh's `hone_cgroup_create` finds it).
    static let ownCgroup: String? = {
        guard let cgroups = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = cgroups.split(separator: "\n").first(where: { $0.hasPrefix("0::/") }),
              let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for mount in mounts.split(separator: "\n") where mount.contains(" - cgroup2 ") {
            let fields = mount.split(separator: " ")
            guard fields.count > 4, fields[3] == "/" else { continue }
            let own = String(line.dropFirst(3))
            return String(fields[4]) + (own == "/" ? "" : own)
        }
        return nil
    }()

    /// Creates the cgroup folder run.sh will use for the job in `dir` (it then starts no `mkdir`).
    static func makeCgroup(for dir: URL) {
        guard let home = ownCgroup else { return }
        _ = mkdir(home + "/" + cgroupName(jobDirectory: dir), 0o755)
    }

    /// Removes the job's cgroup folder once run.sh has emptied it (it leaves that to the local executor).
    static func removeCgroup(of dir: URL) {
        guard let text = try? String(contentsOf: dir.appendingPathComponent(cgroupFile), encoding: .utf8) else { return }
        let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if isJobCgroup(path) { rmdir(path) }
    }

    /// Ends whatever the job in `dir` left running, from outside: its cgroup's processes (recorded in
    /// `cgroup`), then any process carrying its `HONE_JOB` (this process and `except` aside). For a job whose
    /// run.sh is gone (cancelled with SIGKILL, killed alone) and which therefore could not do it itself.
    public static func end(in dir: URL, except: Set<Int32> = []) {
        if let text = try? String(contentsOf: dir.appendingPathComponent(cgroupFile), encoding: .utf8) {
            let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if isJobCgroup(path) { endCgroup(path) }
        }
        let tag = "HONE_JOB=" + dir.appendingPathComponent("job.json").path
        for pid in tagged(tag) where pid != getpid() && !except.contains(pid) { _ = kill(pid, SIGKILL) }
    }

    /// Only a folder hone made (a cgroup named hone-…) is ever killed, whatever the file says.
    static func isJobCgroup(_ path: String) -> Bool {
        let url = URL(fileURLWithPath: path)
        return path.hasPrefix("/") && url.lastPathComponent.hasPrefix("hone-")
            && FileManager.default.fileExists(atPath: url.appendingPathComponent("cgroup.procs").path)
    }

    static func endCgroup(_ path: String) {
        let deadline = Date().addingTimeInterval(5)
        while populated(path) && Date() < deadline {
            if (try? PlainFile.write(Data("1".utf8), to: path + "/cgroup.kill", mode: 0o644)) == nil {
                let procs = (try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)) ?? ""
                for pid in procs.split(separator: "\n").compactMap({ Int32($0) }) { _ = kill(pid, SIGKILL) }
            }
            usleep(20_000)
        }
        rmdir(path)
    }

    /// Whether the cgroup still has a live process (`populated 1` in cgroup.events).
    static func populated(_ path: String) -> Bool {
        guard let events = try? String(contentsOfFile: path + "/cgroup.events", encoding: .utf8) else { return false }
        return events.split(separator: "\n").contains("populated 1")
    }

    /// Live processes whose environment holds `tag` exactly ("NAME=value").
    static func tagged(_ tag: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let needle = Array(tag.utf8)
        var found: [Int32] = []
        for entry in entries {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                  !data.isEmpty else { continue }
            if data.split(separator: 0, omittingEmptySubsequences: true).contains(where: { $0.elementsEqual(needle) }) {
                found.append(pid)
            }
        }
        return found
    }
}
