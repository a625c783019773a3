#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on loopback, for hone's Slurm pool tests and for
# trying the Slurm pool on a laptop. Everything (config, state, spool, pids, logs, jobcomp)
# lives under one directory.
#
#   scripts/slurm-cluster.sh start  [DIR]   install Slurm if missing, write DIR/slurm.conf, start, wait for idle
#   scripts/slurm-cluster.sh stop   [DIR]   stop the daemons by the PIDs in their pid files
#   scripts/slurm-cluster.sh status [DIR]   print what runs; exit 0 when the node answers, 1 otherwise
#   scripts/slurm-cluster.sh env    [DIR]   print `export SLURM_CONF=DIR/slurm.conf`
#
# DIR defaults to $HONE_SLURM_DIR, else /tmp/hone-slurm.
# Authentication: HONE_SLURM_AUTH=none (default: auth/none + cred/none — no munge; trusts any local
# client, acceptable only because the daemons listen on a loopback test cluster) or munge (a private
# munged with its own key and socket under DIR).
# HONE_SLURM_START_TIMEOUT (seconds, default 60) bounds the wait for the node to turn idle.
set -euo pipefail

cmd="${1:-}"
DIR="${2:-${HONE_SLURM_DIR:-/tmp/hone-slurm}}"
AUTH="${HONE_SLURM_AUTH:-none}"
START_TIMEOUT="${HONE_SLURM_START_TIMEOUT:-60}"
CONF="$DIR/slurm.conf"

usage() {
    echo "usage: $0 start|stop|status|env [DIR]   (DIR default: /tmp/hone-slurm)" >&2
    exit 2
}

log() { echo "slurm-cluster: $*" >&2; }
die() { echo "slurm-cluster: error: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to run: $*"
    fi
}

# Make DIR absolute (slurm.conf paths must be absolute).
case "$DIR" in /*) ;; *) DIR="$(pwd)/$DIR"; CONF="$DIR/slurm.conf" ;; esac

sbin() {  # locate a daemon even when /usr/sbin is not on PATH
    local name="$1"
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
    for d in /usr/sbin /sbin /usr/local/sbin; do
        [ -x "$d/$name" ] && { echo "$d/$name"; return; }
    done
    return 1
}

install_slurm() {
    local missing=0
    for b in slurmctld slurmd munged; do sbin "$b" >/dev/null || missing=1; done
    for b in sbatch squeue sinfo scontrol scancel sacct; do command -v "$b" >/dev/null 2>&1 || missing=1; done
    [ "$missing" -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "Slurm is not installed and apt-get is unavailable; install slurmctld slurmd slurm-client munge"
    log "installing slurmctld slurmd slurm-client munge (apt-get)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
        || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null \
        || die "apt-get install slurmctld slurmd slurm-client munge failed"
}

# pid_alive PIDFILE: true when the pid file names a live, non-zombie process.
pid_alive() {
    local f="$1" pid state
    [ -s "$f" ] || return 1
    pid="$(tr -dc '0-9' 2>/dev/null <"$f" || true)"
    [ -n "$pid" ] || return 1
    [ -r "/proc/$pid/stat" ] || return 1
    # The state field follows the ")" closing the command name.
    state="$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [ -n "$state" ] && [ "$state" != "Z" ] && [ "$state" != "X" ]
}

stop_pidfile() {
    local f="$1" name="$2" pid i
    if ! pid_alive "$f"; then rm -f "$f"; return 0; fi
    pid="$(tr -dc '0-9' 2>/dev/null <"$f" || true)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do   # up to 10 s
        pid_alive "$f" || { rm -f "$f"; log "stopped $name ($pid)"; return 0; }
        sleep 0.1
    done
    log "$name ($pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        pid_alive "$f" || { rm -f "$f"; return 0; }
        sleep 0.1
    done
    die "could not stop $name ($pid)"
}

node_state() {
    SLURM_CONF="$CONF" timeout 10 sinfo -h -o %t 2>/dev/null | head -n1 | tr -d ' *~#!%$@^-' || true
}

log_tails() {
    for f in "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" "$DIR/log/munged.log"; do
        [ -f "$f" ] || continue
        echo "---- tail of $f ----" >&2
        tail -n 25 "$f" >&2
    done
}

# The node's memory for slurm.conf (MB): 90% of MemTotal, so that slurmd, which measures the real
# amount, never finds less than configured (it would drain the node). Without RealMemory a node
# has 1 MB and every job with `--mem` (a pool's `mem:`) is rejected as unsatisfiable.
real_memory_mb() {
    local kb
    kb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || true)"
    if [ -n "$kb" ] && [ "$kb" -gt 0 ] 2>/dev/null; then echo $((kb / 1024 * 9 / 10)); else echo 1; fi
}

write_conf() {
    local user auth_lines
    user="$(id -un)"
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log"
    if [ "$AUTH" = "munge" ]; then
        auth_lines="AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket"
    else
        auth_lines="AuthType=auth/none
CredType=cred/none"
    fi
    cat >"$CONF.tmp" <<EOF
# Written by hone's scripts/slurm-cluster.sh: a throwaway single-node cluster on loopback.
ClusterName=hone-test
SlurmctldHost=localhost
SlurmctldPort=${HONE_SLURMCTLD_PORT:-6817}
SlurmdPort=${HONE_SLURMD_PORT:-6818}
SlurmUser=$user
SlurmdUser=$user
$auth_lines
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MpiDefault=none
ReturnToService=2
MinJobAge=600
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$(real_memory_mb) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
}

start_munge() {
    local munged mungekey
    munged="$(sbin munged)" || die "munged not found"
    mkdir -p "$DIR/munge"
    chmod 0755 "$DIR/munge"
    if [ ! -s "$DIR/munge/munge.key" ]; then
        mungekey="$(sbin mungekey)" || die "mungekey not found"
        "$mungekey" -c -k "$DIR/munge/munge.key"
    fi
    chmod 0600 "$DIR/munge/munge.key"
    pid_alive "$DIR/run/munged.pid" && return 0
    "$munged" --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munge.seed" --force \
        || { log_tails; die "munged did not start"; }
}

start() {
    install_slurm
    if pid_alive "$DIR/run/slurmctld.pid" && pid_alive "$DIR/run/slurmd.pid"; then
        case "$(node_state)" in
            idle|mix|alloc) log "already running (SLURM_CONF=$CONF)"; return 0 ;;
        esac
    fi
    for p in "${HONE_SLURMCTLD_PORT:-6817}" "${HONE_SLURMD_PORT:-6818}"; do
        if ! pid_alive "$DIR/run/slurmctld.pid" && ! pid_alive "$DIR/run/slurmd.pid" \
            && command -v ss >/dev/null 2>&1 && ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then
            die "port $p is already in use (another Slurm?); stop it or set HONE_SLURMCTLD_PORT/HONE_SLURMD_PORT"
        fi
    done
    write_conf
    [ "$AUTH" = "munge" ] && start_munge
    local ctld slurmd
    ctld="$(sbin slurmctld)" || die "slurmctld not found"
    slurmd="$(sbin slurmd)" || die "slurmd not found"
    if ! pid_alive "$DIR/run/slurmctld.pid"; then
        "$ctld" -f "$CONF" || { log_tails; die "slurmctld failed to start"; }
    fi
    if ! pid_alive "$DIR/run/slurmd.pid"; then
        "$slurmd" -f "$CONF" -N localhost || { log_tails; die "slurmd failed to start"; }
    fi
    local deadline=$((SECONDS + START_TIMEOUT)) st=""
    while [ "$SECONDS" -lt "$deadline" ]; do
        st="$(node_state)"
        case "$st" in
            idle|mix|alloc) log "cluster up: node localhost $st (SLURM_CONF=$CONF)"; return 0 ;;
        esac
        sleep 0.5
    done
    log "node did not turn idle within ${START_TIMEOUT}s (last sinfo state: '${st:-no answer}')"
    pid_alive "$DIR/run/slurmctld.pid" || log "slurmctld is not running"
    pid_alive "$DIR/run/slurmd.pid" || log "slurmd is not running"
    log_tails
    exit 1
}

stop() {
    stop_pidfile "$DIR/run/slurmd.pid" slurmd
    stop_pidfile "$DIR/run/slurmctld.pid" slurmctld
    stop_pidfile "$DIR/run/munged.pid" munged
    log "stopped (state kept in $DIR)"
}

status() {
    local ok=0 st
    for d in slurmctld slurmd munged; do
        if pid_alive "$DIR/run/$d.pid"; then echo "$d: running (pid $(tr -dc '0-9' <"$DIR/run/$d.pid"))"
        elif [ "$d" != munged ]; then echo "$d: stopped"; ok=1
        fi
    done
    if [ -f "$CONF" ]; then
        st="$(node_state)"
        echo "node localhost: ${st:-no answer}"
        [ -n "$st" ] || ok=1
    else
        echo "no $CONF"; ok=1
    fi
    return "$ok"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *) usage ;;
esac
