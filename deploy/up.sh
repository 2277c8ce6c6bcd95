#!/usr/bin/env bash
# Start local PostgreSQL and Kafka (no Docker) and print the settings the tests read:
#   eval "$(deploy/up.sh)"   or   deploy/up.sh >> some.env
# Only the two KEY=value lines go to stdout; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pg_url=$("${here}/postgres.sh" start | tail -n1) || { echo "up.sh: postgres failed" >&2; exit 1; }
kafka=$("${here}/kafka.sh" start | tail -n1) || { echo "up.sh: kafka failed" >&2; exit 1; }
"${here}/kcat.sh" || { echo "up.sh: kcat failed" >&2; exit 1; }
"${here}/browser.sh" || { echo "up.sh: browser failed" >&2; exit 1; }

echo "SALESLEDGER_TEST_POSTGRES_URL=${pg_url}"
echo "SALESLEDGER_KAFKA_BOOTSTRAP=${kafka}"
