import Foundation
import HoneModel

// The job script: the only thing launched for a job, by the local and the Slurm executors alike.
//
// Job directory layout (`<jobs root>/<job id>/`):
//
//   src/        the repository tree at the reconciled commit (engine); the handler's working directory
//   job.json    the job contract, pointed at by HONE_JOB (engine)
//   out/        the handler's outputs (outputDir)
//   run.sh      this script (executor), written before launch; secrets are never in it
//   lock        flock'ed exclusively by run.sh for its whole life (fd 9; closed in the handler's processes)
//   cgroup      the job's cgroup v2 folder, when it has one (see JobProcesses)
//   pid         "<pid> <pgid>" of run.sh on the machine that runs it (run.sh, and the local executor),
//               written atomically (rename), and only when it does not already say so
//   started     epoch seconds when run.sh began (after taking the lock); its presence means "never again"
//               (created under the lock; its content is one small write, so a reader may briefly see it empty)
//   task.log    runtime creation output, then the handler's stdout+stderr (secrets redacted as ***)
//   finished    epoch seconds when the task ended, written just before the exit code
//   released    why the job's own watchdog ended it at its release time (local pools: `releaseWatchdog`)
//   exitcode    the task's exit status and a newline, written LAST, in one write (no temporary file: an `mv`
//               costs a process): pollers take a complete line as "done, and finished is there", an empty file
//               as "being written" (128+sig when a signal killed it; 97: runtime creation failed;
//               96: the job directory has no src/)
//
// run.sh starts as few processes as it can (each costs about a millisecond): `flock` (the run-once
// guarantee) unless the launcher hands it the lock already taken (`--lock-held`, fd 9: the local executor),
// and one `mv` for pid unless the launcher writes it (the local executor: run.sh then needs no temporary
// file either); times come from bash's own `printf '%(%s)T'`.
//
// Runtime cache (`<runtime cache>/`): `<digest>` is a symlink to the complete venv `.<digest>.<stamp>`,
// created (under the flock `.<digest>.lock`) only once the venv is fully built, so a killed build is never
// used: the next job removes the leftovers and builds again. The venv is never moved after creation, so the
// absolute paths pip writes into console scripts stay valid.

/// Renders `run.sh` for a job.
public enum JobScript {
    /// Exit code recorded when the runtime environment could not be created.
    public static let runtimeFailedExitCode: Int32 = 97
    /// Exit code recorded when the job directory has no `src/` folder.
    public static let missingSourceExitCode: Int32 = 96

    /// What `exitcode`'s text (nil: no file) records: `ended` once it holds a complete line (run.sh writes
    /// "<code>\n" in one write, so an empty file is one being written), and the status when readable.
    public static func recordedExit(_ text: String?) -> (ended: Bool, code: Int32?) {
        guard let text, text.hasSuffix("\n") else { return (false, nil) }
        return (true, Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// File names inside a job directory.
    public enum Files {
        public static let script = "run.sh"
        public static let lock = "lock"
        public static let pid = "pid"
        public static let started = "started"
        public static let log = "task.log"
        public static let exitCode = "exitcode"
        public static let finished = "finished"
        public static let released = "released"
        public static let source = "src"
    }

    /// The bash script that runs `job` in `jobDirectory`, creating its runtime under `runtimeCache`.
    /// Values of `job.secretEnvironment` are not in it: only their names (the values must arrive in the
    /// process environment of the script).
    /// `cgroups`: false tracks the job's processes by session and environment only (see JobProcesses);
    /// `executorMakesCgroup`: the launcher creates the job's cgroup folder and removes it once empty, so run.sh
    /// starts neither `mkdir` nor `rmdir` (the local executor).
    /// The script is a sequence of sections (each a function below), in the order run.sh runs them.
    /// `releaseWatchdog`: a job with a time limit ends itself at its release time (`releaseTimer`), with no
    /// reconciler running (the local executor; Slurm enforces `--time` itself).
    public static func render(job: JobSpec, jobDirectory: URL, runtimeCache: URL, cgroups: Bool = true,
                              executorMakesCgroup: Bool = false, releaseWatchdog: Bool = false) -> String {
        let secretNames = secretVariableNames(job)
        var s = [header(job, jobDirectory: jobDirectory), runOnceGuard, recordFunctions, startRecord,
                 processTracking(jobDirectory: jobDirectory, cgroups: cgroups, executorMakesCgroup: executorMakesCgroup)]
            .joined(separator: "\n")
        s += invalidNameNotes(job)
        if let runtime = job.runtime {
            s += runtimeSection(runtime, cache: runtimeCache, secretNames: secretNames)
        }
        s += environmentSection(job)
        if let session = job.debugSession {
            s += debugLayerSection(session, cache: runtimeCache, secretNames: secretNames)
        }
        s += handlerSection(job, secretNames: secretNames)
        let limit = releaseWatchdog ? job.timeLimitSeconds.flatMap { $0 > 0 ? $0 : nil } : nil
        // A debug session can always be released (`hone debug --end`: SIGUSR1), also without a time limit.
        if limit != nil || job.debugSession != nil {
            s += releaseFunctions(reason: limit.map { "autoRelease \(DurationText.format($0)): the release time was reached" }
                                  ?? "the debug session was ended")
        }
        if let limit { s += releaseTimer(seconds: limit) }
        s += waitSection(secretNames: secretNames, releasable: limit != nil || job.debugSession != nil)
        return s
    }

    /// Names of the secret variables, longest value first (a secret containing another is redacted whole).
    static func secretVariableNames(_ job: JobSpec) -> [String] {
        job.secretEnvironment
            .filter { isValidName($0.key) }
            .sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
            .map(\.key)
    }

    /// The job's identity and folder.
    static func header(_ job: JobSpec, jobDirectory: URL) -> String {
        """
        #!/bin/bash
        # Generated by hone: the only process launched for this job. Do not edit.
        # Layout: lock (held while running), pid, started, task.log, finished, exitcode (last); handler runs in src/.
        set -u
        HONE_JOB_ID=\(quote(job.id))
        HONE_JOB_OBJECT=\(quote(job.object))
        HONE_JOB_TASK=\(quote(job.task))
        HONE_JOBDIR=\(quote(jobDirectory.standardizedFileURL.path))
        HONE_LOG="$HONE_JOBDIR/task.log"

        """
    }

    /// One instance, one run: the job's flock (taken here, or handed over as fd 9), and `started`.
    static let runOnceGuard = """
    # One instance, one run: another instance holds the lock, or this job already started (or was ended).
    # The local executor takes the lock itself and hands it over as fd 9 (`--lock-held`): no flock process.
    hone_handed=0
    if [ "${1-}" = --lock-held ] && { : >&9; } 2>/dev/null; then hone_handed=1; else
      exec 9>>"$HONE_JOBDIR/lock" || exit 0
      flock -n 9 || exit 0
    fi
    if [ -e "$HONE_JOBDIR/started" ] || [ -e "$HONE_JOBDIR/exitcode" ]; then exit 0; fi

    """

    /// Writing the record files, ending on exit or signal (`finished`, then `exitcode` last).
    static let recordFunctions = """
    hone_write() { # NAME CONTENT: write a file of the job directory atomically (costs an mv process)
      local tmp="$HONE_JOBDIR/.$1.$$.tmp"
      printf '%s\\n' "$2" > "$tmp" && mv -f -- "$tmp" "$HONE_JOBDIR/$1"
    }
    hone_put() { printf '%s\\n' "$2" > "$HONE_JOBDIR/$1"; } # NAME CONTENT: one small write, no process
    hone_say() { printf 'hone: %s\\n' "$*" >> "$HONE_LOG"; }
    hone_done=0
    hone_finish() {
      [ "$hone_done" = 1 ] && return 0
      hone_done=1
      local now
      hone_end_processes
      printf -v now '%(%s)T' -1
      hone_put finished "$now"
      hone_put exitcode "$1"
    }
    hone_sig=0
    hone_trapped=0
    trap 'hone_sig=15; hone_trapped=1' TERM
    trap 'hone_sig=2; hone_trapped=1' INT
    trap 'hone_sig=1; hone_trapped=1' HUP
    trap 'hone_finish $?' EXIT
    hone_stop_if_signalled() {
      if [ "$hone_sig" != 0 ]; then hone_say "stopped by signal $hone_sig"; exit $((128 + hone_sig)); fi
    }

    """

    /// `pid` (unless the launcher wrote it) and `started`.
    static let startRecord = """
    hone_pgid=$$ hone_sid=
    if [ -r "/proc/$$/stat" ]; then read -r _ _ _ _ hone_pgid hone_sid _ < "/proc/$$/stat" || hone_pgid=$$; fi
    # The local executor usually wrote the same pid file already (it spawned us as a group leader). When
    # it did not yet, it is about to write the same line, only if the file is absent: so create it only if
    # absent too (noclobber), never truncating its copy, and without an mv process.
    hone_seen=
    { read -r hone_seen < "$HONE_JOBDIR/pid"; } 2>/dev/null
    if [ "$hone_seen" != "$$ $hone_pgid" ]; then
      if [ "$hone_handed" = 1 ]; then { set -C; hone_put pid "$$ $hone_pgid"; set +C; } 2>/dev/null
      else hone_write pid "$$ $hone_pgid"; fi
    fi
    printf -v hone_now '%(%s)T' -1
    hone_put started "$hone_now"
    : >> "$HONE_LOG"

    """

    /// The job's cgroup (or session) tracking, from JobProcesses.
    static func processTracking(jobDirectory: URL, cgroups: Bool, executorMakesCgroup: Bool) -> String {
        """
        # What the job starts ends with it; none of it holds the lock (fd 9).
        HONE_CGROUP_NAME=\(quote(cgroups ? JobProcesses.cgroupName(jobDirectory: jobDirectory) : ""))
        HONE_CGROUP_KEEP=\(executorMakesCgroup ? 1 : 0)
        HONE_CGROUP_HOME=\(quote(executorMakesCgroup ? JobProcesses.ownCgroup ?? "" : ""))
        \(JobProcesses.shellFunctions)
        hone_cgroup_create

        """
    }

    /// A log line for each environment variable whose name bash cannot export.
    static func invalidNameNotes(_ job: JobSpec) -> String {
        var s = ""
        let invalid = (job.runtime?.environment.keys.map { $0 } ?? []) + job.environment.keys + job.secretEnvironment.keys
        for name in Set(invalid.filter { !isValidName($0) }).sorted() {
            s += "hone_say \(quote("ignored an environment variable with an invalid name: \(name)"))\n"
        }
        return s
    }

    /// Creating (or reusing) the runtime venv, cached by digest, with the secrets unset.
    static func runtimeSection(_ runtime: RuntimeSetup, cache runtimeCache: URL, secretNames: [String]) -> String {
        let cache = runtimeCache.standardizedFileURL.path
        var s = "\n# The runtime: a venv cached by digest, built once.\n"
        for (k, v) in runtime.environment.sorted(by: { $0.key < $1.key }) where isValidName(k) {
            s += "export \(k)=\(quote(v))\n"
        }
        s += """
        HONE_RUNTIME_CACHE=\(quote(cache))
        HONE_RUNTIME_DIGEST=\(quote(runtime.digest))
        HONE_RUNTIME_PYTHON=\(quote(runtime.python))
        HONE_VENV="$HONE_RUNTIME_CACHE/$HONE_RUNTIME_DIGEST"
        hone_requirements=(\(runtime.requirements.map(quote).joined(separator: " ")))
        hone_runtime() {
          [ -e "$HONE_VENV/.hone-complete" ] && return 0
          mkdir -p -- "$HONE_RUNTIME_CACHE" || { echo "cannot create $HONE_RUNTIME_CACHE"; return 1; }
          exec 8>>"$HONE_RUNTIME_CACHE/.$HONE_RUNTIME_DIGEST.lock" || return 1
          if ! flock -n 8; then
            echo "hone: runtime $HONE_RUNTIME_DIGEST is being built by another job: waiting for it"
            flock 8 || return 1
          fi
          [ -e "$HONE_VENV/.hone-complete" ] && return 0
          # Leftovers of killed builds (we hold the lock: nobody else is building).
          rm -rf -- "$HONE_RUNTIME_CACHE/.$HONE_RUNTIME_DIGEST".[0-9]*
          if [ -e "$HONE_VENV" ] || [ -L "$HONE_VENV" ]; then rm -rf -- "$HONE_VENV"; fi
          local stamp
          printf -v stamp '%(%s)T' -1
          local name=".$HONE_RUNTIME_DIGEST.$stamp.$$"
          local dir="$HONE_RUNTIME_CACHE/$name"
          echo "hone: creating runtime $HONE_RUNTIME_DIGEST with $HONE_RUNTIME_PYTHON"
          "$HONE_RUNTIME_PYTHON" -m venv \(runtime.systemSitePackages ? "--system-site-packages " : "")"$dir" \\
            || { echo "hone: runtime creation failed: $HONE_RUNTIME_PYTHON -m venv exited with status $?"; return 1; }
          if [ "${#hone_requirements[@]}" -gt 0 ]; then
            "$dir/bin/python" -m pip install --disable-pip-version-check --no-input "${hone_requirements[@]}" \\
              || { echo "hone: runtime creation failed: pip install exited with status $?"; return 1; }
          fi
          : > "$dir/.hone-complete" || return 1
          ln -s -- "$name" "$HONE_VENV.tmp.$$" && mv -T -f -- "$HONE_VENV.tmp.$$" "$HONE_VENV" || return 1
          echo "hone: runtime $HONE_RUNTIME_DIGEST created"
        }
        ( hone_join; \(secretNames.isEmpty ? "" : "unset -v \(secretNames.joined(separator: " ")); ")hone_runtime ) >> "$HONE_LOG" 2>&1 < /dev/null 9>&-
        hone_rc=$?
        hone_stop_if_signalled
        if [ "$hone_rc" != 0 ]; then
          hone_say "runtime creation failed (runtime $HONE_RUNTIME_DIGEST, status $hone_rc)"
          exit \(runtimeFailedExitCode)
        fi

        """
        return s
    }

    /// The job's own variables, and the venv on PATH.
    static func environmentSection(_ job: JobSpec) -> String {
        var s = "\n# The job's environment.\n"
        for (k, v) in job.environment.sorted(by: { $0.key < $1.key }) where isValidName(k) {
            s += "export \(k)=\(quote(v))\n"
        }
        if job.runtime != nil {
            s += """
            export VIRTUAL_ENV="$HONE_VENV"
            unset -v PYTHONHOME
            export PATH="$HONE_VENV/bin:$PATH"

            """
        }
        return s
    }

    /// Starting the handler in `src/`, its output through the redaction filter when there are secrets.
    static func handlerSection(_ job: JobSpec, secretNames: [String]) -> String {
        var s = """

        # The handler.
        cd -- "$HONE_JOBDIR/src" || { hone_say "the job directory has no src/ folder"; exit \(missingSourceExitCode); }
        HONE_COMMAND=\(quote(job.command))
        HONE_RUN="$HONE_COMMAND"
        hone_stop_if_signalled

        """
        if job.debugSession != nil { s += debugServerStart }
        if secretNames.isEmpty {
            s += """
            ( hone_join; exec bash -c "$HONE_RUN" ) >> "$HONE_LOG" 2>&1 < /dev/null 9>&- &
            hone_child=$!

            """
        } else {
            s += """
            # Secrets arrive in the environment only; every value is redacted from the log as ***.
            HONE_SECRET_NAMES=\(quote(secretNames.joined(separator: " ")))
            HONE_REDACT=\(quote(redactProgram))
            hone_awk_opts=()  # mawk buffers its input unless interactive: the log must stream (hone logs --follow)
            case $(awk -W version 2>&1 < /dev/null | head -n 1) in *mawk*) hone_awk_opts=(-W interactive) ;; esac
            exec 3> >(trap '' TERM INT HUP; exec awk "${hone_awk_opts[@]}" -v names="$HONE_SECRET_NAMES" "$HONE_REDACT" >> "$HONE_LOG" 9>&-)
            hone_filter=$!
            ( hone_join; exec bash -c "$HONE_RUN" ) >&3 2>&3 3>&- < /dev/null 9>&- &
            hone_child=$!
            exec 3>&-

            """
        }
        return s
    }

    /// The debug layer: a venv with JupyterLab, cached by digest beside the runtimes and built like them
    /// (under a flock, linked into place once complete); a kernelspec that runs the job's own python with the
    /// layer's packages after its own; `hone-handler` on PATH; Jupyter's folders inside the job folder.
    static func debugLayerSection(_ session: DebugSession, cache runtimeCache: URL, secretNames: [String]) -> String {
        let layer = RuntimeSetup(digest: session.layerDigest, python: session.python, requirements: session.requirements,
                                 systemSitePackages: false, environment: [:])
        let build = runtimeSection(layer, cache: runtimeCache, secretNames: secretNames)
            .replacingOccurrences(of: "HONE_VENV", with: "HONE_DEBUG_LAYER")
            .replacingOccurrences(of: "hone_runtime", with: "hone_debug_layer")
            .replacingOccurrences(of: "HONE_RUNTIME_", with: "HONE_DEBUG_LAYER_")
            .replacingOccurrences(of: "hone_requirements", with: "hone_debug_requirements")
            .replacingOccurrences(of: "# The runtime: a venv cached by digest, built once.", with: "# The debug layer: JupyterLab, a venv of its own cached by digest.")
        return build + """
        HONE_DEBUG_DIR="$HONE_JOBDIR/debug"
        HONE_DEBUG_ADDRESS=\(quote(session.listenAddress))
        HONE_DEBUG_TOKEN_VAR=\(quote(session.passwordVariable))
        mkdir -p -- "$HONE_DEBUG_DIR/bin" "$HONE_DEBUG_DIR/data/kernels/hone" "$HONE_DEBUG_DIR/config" "$HONE_DEBUG_DIR/runtime"
        export JUPYTER_CONFIG_DIR="$HONE_DEBUG_DIR/config" JUPYTER_DATA_DIR="$HONE_DEBUG_DIR/data" JUPYTER_RUNTIME_DIR="$HONE_DEBUG_DIR/runtime"
        export IPYTHONDIR="$HONE_DEBUG_DIR/ipython" JUPYTER_PLATFORM_DIRS=1
        hone_job_python=$(command -v python3 || echo python3)
        hone_layer_site=$("$HONE_DEBUG_LAYER/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
        printf '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python (this job)", "language": "python", "env": {"PYTHONPATH": "%s"}}\\n' \\
          "$hone_job_python" "${PYTHONPATH:+$PYTHONPATH:}$hone_layer_site" > "$HONE_DEBUG_DIR/data/kernels/hone/kernel.json"
        printf '#!/bin/bash\\n# Runs the handler as hone would: in src/, with the job'"'"'s environment.\\ncd -- "$HONE_JOBDIR/src" && exec bash -c "$HONE_COMMAND"\\n' > "$HONE_DEBUG_DIR/bin/hone-handler"
        chmod +x "$HONE_DEBUG_DIR/bin/hone-handler"
        export PATH="$HONE_DEBUG_DIR/bin:$PATH"

        """
    }

    /// The session's server as the job's process: a free port now, the token from the environment only.
    static let debugServerStart = """
    export HONE_JOBDIR HONE_COMMAND
    hone_port=$("$HONE_DEBUG_LAYER/bin/python" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
    hone_put debug/port "$hone_port"
    hone_root_flag=; [ "$(id -u)" = 0 ] && hone_root_flag=--allow-root
    HONE_RUN='JUPYTER_TOKEN="${!HONE_DEBUG_TOKEN_VAR}" exec "$HONE_DEBUG_LAYER/bin/jupyter" lab --no-browser $hone_root_flag --ip="$HONE_DEBUG_ADDRESS" --port="$hone_port" --ServerApp.port_retries=0 --ServerApp.root_dir="$HONE_JOBDIR" --MultiKernelManager.default_kernel_name=hone'
    export HONE_DEBUG_LAYER HONE_DEBUG_ADDRESS HONE_DEBUG_TOKEN_VAR hone_port hone_root_flag

    """

    /// Releasing the job from inside (`hone_release`, run by run.sh when `hone_release_due` is set: SIGUSR1):
    /// `released` records why, then the job's processes end as a cancel ends them — SIGTERM, up to 3 s for
    /// them to exit, then SIGKILL for what is left (`hone_end_processes`). run.sh then records the handler's
    /// status as usual, and the executor reports the job `Released`. Any trigger can use it: a timer
    /// (`releaseTimer`), or an idle check that sends run.sh SIGUSR1.
    public static func releaseFunctions(reason: String) -> String {
        """

        # Release: the job ends itself (why in `released`), as a cancel would end it.
        hone_release_due=0
        trap 'hone_release_due=1; hone_trapped=1' USR1
        HONE_RELEASE_REASON=\(quote(reason))
        hone_release() {
          hone_release_due=0
          [ -e "$HONE_JOBDIR/released" ] && return 0
          hone_put released "$HONE_RELEASE_REASON"
          hone_say "released: $HONE_RELEASE_REASON"
          if [ -n "$hone_cgroup" ]; then { while read -r p; do kill -TERM "$p"; done < "$hone_cgroup/cgroup.procs"; } 2>/dev/null
          elif [ "$hone_pgid" = "$$" ]; then kill -TERM -- "-$$" 2>/dev/null  # run.sh's own TERM is trapped
          else kill -TERM "$hone_child" 2>/dev/null; fi
          local i
          for i in {1..30}; do kill -0 "$hone_child" 2>/dev/null || break; sleep 0.1; done
          hone_end_processes
        }

        """
    }

    /// The release timer: SIGUSR1 to run.sh `seconds` after the job started (the `started` time, from which
    /// the engine computes `releaseAt`). It runs with the job's processes (`hone_join`), so it ends with them
    /// when the handler ends first.
    public static func releaseTimer(seconds: Int) -> String {
        """
        printf -v hone_t '%(%s)T' -1
        hone_left=$((hone_now + \(seconds) - hone_t))
        [ "$hone_left" -gt 0 ] || hone_left=0
        ( hone_join; trap - TERM INT HUP; exec > /dev/null 2>&1 < /dev/null 9>&-; sleep "$hone_left" && kill -USR1 $$ ) &

        """
    }

    /// Waiting for the handler, ending what it left, and exiting with its status.
    static func waitSection(secretNames: [String], releasable: Bool = false) -> String {
        let release = releasable ? "[ \"$hone_release_due\" = 1 ] && hone_release      # the release time came\n  " : ""
        var s = """
        # Wait for the handler; a trapped signal interrupts `wait` while the handler may still be running.
        while :; do
          hone_trapped=0
          wait "$hone_child"; hone_code=$?
          [ "$hone_trapped" = 1 ] || break                  # the handler ended
          \(release)kill -0 "$hone_child" 2>/dev/null && continue     # interrupted: still running
          # Interrupted, and the handler ended meanwhile: collect its status if wait did not already.
          wait "$hone_child" 2>/dev/null; hone_rc=$?
          case $hone_rc in 127|255|-*) ;; *) hone_code=$hone_rc ;; esac
          break
        done
        hone_end_processes  # before the log filter's last lines: a leftover daemon may hold its pipe

        """
        if !secretNames.isEmpty {
            s += """
            # Let the redaction filter flush the last lines (bounded: a leaked daemon may hold the pipe).
            for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
              kill -0 "$hone_filter" 2>/dev/null || break
              sleep 0.1
            done

            """
        }
        s += "exit \"$hone_code\"\n"
        return s
    }

    /// awk program: replaces every value of the variables named in `names` (space-separated) by ***,
    /// flushing per line. Literal matching (index), not regular expressions.
    static let redactProgram = """
    BEGIN { n = split(names, k, " ") }
    {
      line = $0
      for (i = 1; i <= n; i++) {
        v = ENVIRON[k[i]]
        if (v == "") continue
        out = ""
        while ((p = index(line, v)) > 0) { out = out substr(line, 1, p - 1) "***"; line = substr(line, p + length(v)) }
        line = out line
      }
      print line
      fflush()
    }
    """

    /// A bash word that yields `value` literally.
    public static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Environment variable names bash can export.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
