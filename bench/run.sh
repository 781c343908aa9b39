#!/usr/bin/env bash
# bench/run.sh — the figures of `make bench` (which builds bin/octavia-es first).
# Starts the binary on a free 127.0.0.1 port with a throw-away data directory,
# drives the v2 API, runs the event stores' Go benchmarks (SQLite, and PostgreSQL
# unless unreachable or -skip-postgres) with their baselines, the projection
# lag on a SQLite-store server and on PostgreSQL-store ones with each read
# model (SQLite, PostgreSQL), the 10k list on the PostgreSQL event store with
# the PostgreSQL read model against the SQLite one,
# and prints one table (also bench/out/latest.txt, and JSON in bench/out/).
# Nothing is asserted about speed; the exit status is non-zero only when the
# server or a benchmark misbehaved (errors, not slowness).
#
# Environment (all optional):
#   BENCH_LBS=10000       load balancers in the store for the largest list figures
#   BENCH_WORKERS=8       concurrent clients
#   BENCH_BIN=bin/octavia-es  BENCH_CONFIG=etc/octavia-es.yaml
#   BENCH_URL=http://127.0.0.1:PORT  use a running server instead (loopback only)
#   BENCH_ARGS="..."      extra loadgen flags (e.g. -skip-gobench; only the read
#                         model sections: -skip-api -skip-gobench -skip-amphorae
#                         -skip-replay -skip-sse -skip-pg-appends)
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BENCH_BIN:-bin/octavia-es}
if [[ -z "${BENCH_URL:-}" && ! -x "$bin" ]]; then
  echo "bench/run.sh: $bin not found; run 'make bench' (it builds it)" >&2
  exit 1
fi

mkdir -p bench/out
go build -o bench/out/loadgen ./bench/loadgen

args=(-bin "$bin" -config "${BENCH_CONFIG:-etc/octavia-es.yaml}" -out bench/out
      -lbs "${BENCH_LBS:-10000}" -workers "${BENCH_WORKERS:-8}")
if [[ -n "${BENCH_URL:-}" ]]; then args+=(-url "$BENCH_URL"); fi
# shellcheck disable=SC2206 # BENCH_ARGS is split on purpose
extra=(${BENCH_ARGS:-})
exec ./bench/out/loadgen "${args[@]}" "${extra[@]}"
