#!/usr/bin/env bash
# kcat (librdkafka's command-line client) from Debian's packages: the tests read the topics with a
# client that is not kafka-python. Installs it when missing (needs root, as CI and dev machines are);
# prints nothing on stdout.
set -euo pipefail

log() { echo "kcat.sh: $*" >&2; }

if command -v kcat >/dev/null 2>&1; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    log "kcat not found on PATH; install Debian's kcat (apt-get install kcat)"
    exit 1
fi
log "kcat not found; installing Debian's kcat"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || { log "apt-get update failed"; exit 1; }
apt-get install -y -q kcat >&2 || { log "apt-get install kcat failed"; exit 1; }
command -v kcat >/dev/null 2>&1 || { log "kcat still missing after installing it"; exit 1; }
