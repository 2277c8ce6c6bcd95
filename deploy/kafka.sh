#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) for salesledger, without Docker.
#   deploy/kafka.sh [start]   provision jars via Maven (once), format storage (once), start, wait
#   deploy/kafka.sh stop      stop the broker started by this script
#   deploy/kafka.sh status    exit 0 if a broker answers on 127.0.0.1:9092
# Everything lives outside the repo in ${SALESLEDGER_CACHE:-$HOME/.cache/salesledger}/kafka-<ver>/.
set -euo pipefail

readonly KAFKA_VERSION=${SALESLEDGER_KAFKA_VERSION:-4.1.1}
readonly SCALA_VERSION=2.13
# Kafka 4.1 logs through slf4j 1.7 -> log4j2; the broker jar ships no binding of its own.
readonly LOG4J_VERSION=2.24.3
readonly DEP_PLUGIN_VERSION=3.8.1
readonly HOST=127.0.0.1
readonly PORT=9092
readonly CONTROLLER_PORT=9093
readonly BOOTSTRAP="${HOST}:${PORT}"
readonly START_WAIT_SECONDS=90
readonly STOP_WAIT_SECONDS=30

readonly CACHE_ROOT=${SALESLEDGER_CACHE:-$HOME/.cache/salesledger}
readonly KDIR="${CACHE_ROOT}/kafka-${KAFKA_VERSION}"
readonly LIBS="${KDIR}/libs"
readonly DATA="${KDIR}/kafka-data"
readonly PROPS="${KDIR}/server.properties"
readonly LOG4J_CONF="${KDIR}/log4j2.properties"
readonly PID_FILE="${KDIR}/kafka.pid"
readonly LOG_FILE="${KDIR}/kafka.log"
readonly PYTHON=${PYTHON:-python3}

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# need CMD DEBIAN_PACKAGE: install the package with apt when CMD is missing (fresh machines).
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    [[ $(id -u) -eq 0 ]] || die "$1 not found on PATH; install Debian's $2"
    log "$1 not found; installing Debian's $2"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || die "apt-get update failed"
    apt-get install -y -q "$2" >&2 || die "apt-get install $2 failed"
    command -v "$1" >/dev/null 2>&1 || die "$1 still missing after installing $2"
}

# Stdlib-only probe (no kafka-python needed): ApiVersions, then a Metadata request that must
# list at least one broker. KRaft lists only unfenced brokers, so this means "ready to serve",
# not merely "port open".
probe() {
    "$PYTHON" - "$HOST" "$PORT" <<'PY' 2>/dev/null
import socket
import struct
import sys

host, port = sys.argv[1], int(sys.argv[2])


def call(sock, api_key, version, corr, body):
    client = b"kafka.sh"
    header = struct.pack(">hhih", api_key, version, corr, len(client)) + client
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", recv(sock, 4))[0]
    data = recv(sock, size)
    if struct.unpack(">i", data[:4])[0] != corr:
        raise SystemExit("correlation id mismatch")
    return data[4:]


def recv(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    return buf


with socket.create_connection((host, port), timeout=3) as s:
    s.settimeout(3)
    resp = call(s, 18, 0, 1, b"")  # ApiVersions v0: every broker version speaks it
    error, count = struct.unpack(">hi", resp[:6])
    if error:
        raise SystemExit(f"ApiVersions error {error}")
    ranges = {}
    for i in range(count):
        key, lo, hi = struct.unpack(">hhh", resp[6 + 6 * i : 12 + 6 * i])
        ranges[key] = (lo, hi)
    lo, hi = ranges[3]
    if not lo <= 4 <= hi:
        raise SystemExit(f"Metadata v4 unsupported ({lo}..{hi})")
    # Metadata v4: no topics, no auto-creation; response starts throttle_ms, broker count.
    resp = call(s, 3, 4, 2, struct.pack(">ib", 0, 0))
    _throttle, brokers = struct.unpack(">ii", resp[:8])
    if brokers < 1:
        raise SystemExit("no unfenced broker yet")
PY
}

port_open() { (exec 3<>"/dev/tcp/${HOST}/$1") 2>/dev/null; }

# Pid from the pid file if that process is still our broker (guards against pid reuse).
running_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
    echo "$pid"
}

provision() {
    [[ -f "${LIBS}/.complete" ]] && return 0
    need mvn maven
    log "downloading Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIBS}"
    mkdir -p "$KDIR"
    cat >"${KDIR}/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.salesledger</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEP_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
    # Copy into a temp dir and rename, so an interrupted download is never taken as complete.
    rm -rf "${LIBS}.tmp"
    mvn -q -B -Dstyle.color=never -f "${KDIR}/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="${LIBS}.tmp" >"${KDIR}/mvn.log" 2>&1 \
        || { tail -n 30 "${KDIR}/mvn.log" >&2; die "mvn could not fetch Kafka ${KAFKA_VERSION}"; }
    rm -rf "$LIBS"
    mv "${LIBS}.tmp" "$LIBS"
    touch "${LIBS}/.complete"
}

write_config() {
    mkdir -p "$DATA"
    # Rewritten on every start so changes here take effect; the data dir is what persists.
    cat >"$PROPS" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${PORT}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${DATA}
num.partitions=1
auto.create.topics.enable=true
# Single node: internal topics cannot have more than one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# One partition instead of 50 makes the first consumer group / transaction much faster.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
EOF
    cat >"$LOG4J_CONF" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
# Per-request and per-segment chatter drowns the useful startup/shutdown lines.
logger.state.name = state.change.logger
logger.state.level = WARN
logger.log.name = kafka.log
logger.log.level = WARN
logger.ulog.name = org.apache.kafka.storage.internals.log
logger.ulog.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
EOF
}

readonly JVM_OPTS=(
    -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$KDIR"
)

format_storage() {
    [[ -f "${DATA}/meta.properties" ]] && return 0
    # Kafka cluster ids are 16 random bytes in URL-safe base64 without padding; Kafka avoids
    # a leading '-' so the id is never mistaken for a CLI flag.
    local id
    id=-
    while [[ $id == -* ]]; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    log "formatting ${DATA} (cluster id ${id})"
    java "${JVM_OPTS[@]}" -cp "${LIBS}/*" kafka.tools.StorageTool \
        format -t "$id" -c "$PROPS" >>"$LOG_FILE" 2>&1 \
        || { tail -n 20 "$LOG_FILE" >&2; die "kafka storage format failed"; }
}

start() {
    if probe; then
        log "a broker already answers on ${BOOTSTRAP}"
        echo "$BOOTSTRAP"
        return 0
    fi
    need java default-jre-headless
    command -v "$PYTHON" >/dev/null 2>&1 || die "${PYTHON} not found (set PYTHON to a python3)"
    local pid
    if pid=$(running_pid); then
        log "broker pid ${pid} is running but not answering yet; waiting for it"
    else
        if port_open "$PORT" || port_open "$CONTROLLER_PORT"; then
            die "port ${PORT} or ${CONTROLLER_PORT} is taken by something that is not Kafka"
        fi
        provision
        write_config
        [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "${LOG_FILE}.1"
        format_storage
        log "starting Kafka ${KAFKA_VERSION} (log: ${LOG_FILE})"
        # setsid: own session, so the broker outlives the calling shell and its job control.
        setsid java "${JVM_OPTS[@]}" -cp "${LIBS}/*" kafka.Kafka "$PROPS" \
            </dev/null >>"$LOG_FILE" 2>&1 &
        pid=$!
        echo "$pid" >"$PID_FILE"
    fi
    local deadline=$((SECONDS + START_WAIT_SECONDS))
    until probe; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "broker exited; last lines of ${LOG_FILE}:"
            tail -n 40 "$LOG_FILE" >&2
            rm -f "$PID_FILE"
            die "Kafka did not start"
        fi
        if ((SECONDS >= deadline)); then
            log "last lines of ${LOG_FILE}:"
            tail -n 40 "$LOG_FILE" >&2
            die "no answer on ${BOOTSTRAP} within ${START_WAIT_SECONDS}s (pid ${pid} left running)"
        fi
        sleep 0.3
    done
    log "broker ready on ${BOOTSTRAP} (pid ${pid})"
    echo "$BOOTSTRAP"
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PID_FILE"
        if port_open "$PORT"; then
            die "something listens on ${BOOTSTRAP} but it was not started by this script"
        fi
        log "broker is not running"
        return 0
    fi
    log "stopping broker pid ${pid}"
    kill -TERM "$pid"
    local deadline=$((SECONDS + STOP_WAIT_SECONDS))
    while kill -0 "$pid" 2>/dev/null || port_open "$PORT"; do
        if ((SECONDS >= deadline)); then
            log "broker did not stop within ${STOP_WAIT_SECONDS}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            port_open "$PORT" && die "port ${PORT} still open after SIGKILL"
            break
        fi
        sleep 0.3
    done
    rm -f "$PID_FILE"
    log "stopped"
}

status() {
    local pid
    pid=$(running_pid) || pid=
    if probe; then
        echo "running: ${BOOTSTRAP}${pid:+ (pid ${pid})}"
        return 0
    fi
    echo "not answering on ${BOOTSTRAP}${pid:+ (pid ${pid} alive)}"
    return 3
}

case ${1:-start} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 [start|stop|status]" ;;
esac
