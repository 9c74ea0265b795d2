#!/usr/bin/env bash
# MinIO on loopback for the object store tests (issue 7).
#
#   .ci/minio.sh start   install (once) and start MinIO; idempotent
#   .ci/minio.sh stop    stop it (the data in $MINIO_DATA stays)
#   .ci/minio.sh env     print the environment the tests read, for eval:
#                        eval "$(.ci/minio.sh env)"
#   .ci/minio.sh status  exit 0 when it answers
#
# The server is built with `go install` from a pinned commit: the project's
# machines reach the Go module proxy but no binary download site. The first
# build takes a few minutes; the binary is kept in $MINIO_BIN_DIR.
set -euo pipefail

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
MINIO_BIN_DIR="${MINIO_BIN_DIR:-$(go env GOPATH)/bin/minio-$MINIO_VERSION}"
MINIO_BIN="$MINIO_BIN_DIR/minio"
MINIO_DATA="${MINIO_DATA:-/tmp/arbalest-minio}"
MINIO_PORT="${MINIO_PORT:-19000}"
MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-19001}"
# Fixed test credentials: this server holds only test data and listens on
# 127.0.0.1 only.
MINIO_USER="arbalest-test"
MINIO_PASSWORD="arbalest-test-secret"
PIDFILE="$MINIO_DATA.pid"
LOG="$MINIO_DATA.log"
ENDPOINT="http://127.0.0.1:$MINIO_PORT"

answers() {
  curl -fsS --max-time 2 "$ENDPOINT/minio/health/live" >/dev/null 2>&1
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install() {
  [[ -x "$MINIO_BIN" ]] && return 0
  echo "minio.sh: building MinIO $MINIO_VERSION (go install, takes a few minutes)" >&2
  mkdir -p "$MINIO_BIN_DIR"
  local start=$SECONDS
  GOBIN="$MINIO_BIN_DIR" go install "github.com/minio/minio@$MINIO_VERSION"
  echo "minio.sh: built in $((SECONDS - start))s" >&2
}

start() {
  if running_pid >/dev/null && answers; then
    return 0
  fi
  install
  mkdir -p "$MINIO_DATA"
  if pid="$(running_pid)"; then
    # Started but not answering (yet): wait for it below.
    :
  else
    MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" \
      MINIO_BROWSER=off MINIO_UPDATE=off \
      nohup "$MINIO_BIN" server --quiet \
      --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
      "$MINIO_DATA" >"$LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi
  for _ in $(seq 1 100); do
    if answers; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "minio.sh: MinIO exited; its log ($LOG):" >&2
      tail -20 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      return 1
    fi
    sleep 0.2
  done
  echo "minio.sh: MinIO did not answer on $ENDPOINT within 20s; log: $LOG" >&2
  return 1
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
}

env() {
  cat <<EOF
export ARBALEST_MINIO_ENDPOINT=$ENDPOINT
export ARBALEST_MINIO_ACCESS_KEY=$MINIO_USER
export ARBALEST_MINIO_SECRET_KEY=$MINIO_PASSWORD
EOF
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
