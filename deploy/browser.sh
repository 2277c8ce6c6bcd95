#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser tests, from Debian's packages: chromium, its
# chromedriver (Selenium drives it), and a CJK font so Chinese names render in the screenshots.
# Installs what is missing (needs root, as CI and dev machines are); prints nothing on stdout.
set -euo pipefail

log() { echo "browser.sh: $*" >&2; }

have_all() {
    command -v chromium >/dev/null 2>&1 \
        && command -v chromedriver >/dev/null 2>&1 \
        && [[ -n $(fc-list :lang=zh 2>/dev/null) ]]
}

if have_all; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    log "chromium, chromedriver or a CJK font missing; install Debian's chromium chromium-driver fonts-wqy-microhei"
    exit 1
fi
log "installing Debian's chromium, chromium-driver and fonts-wqy-microhei"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || { log "apt-get update failed"; exit 1; }
apt-get install -y -q chromium chromium-driver fonts-wqy-microhei fontconfig >&2 \
    || { log "apt-get install failed"; exit 1; }
have_all || { log "chromium, chromedriver or the CJK font still missing after installing them"; exit 1; }
