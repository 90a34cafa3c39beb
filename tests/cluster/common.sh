# Shared by the test-cluster scripts: where state lives, logging, pid files, apt installs.
WORK=${WFLCLI_CLUSTER:-/tmp/wflcli-cluster}
log() { echo "[$(basename "$0" .sh)] $*" >&2; }
alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pidfile() {  # pidfile label: TERM, wait up to 10 s, then KILL
  local pid
  alive "$1" || { rm -f "$1"; return 0; }
  pid=$(cat "$1"); kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$1"; log "stopped $2"
}
apt_install() {  # daemons are never started by the packages (no init system here)
  export DEBIAN_FRONTEND=noninteractive
  [[ -n ${_APT_UPDATED:-} ]] || { apt-get update -qq; _APT_UPDATED=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
wait_for() {  # tries command...: retry every 0.2 s
  local tries=$1; shift
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  "$@"
}
