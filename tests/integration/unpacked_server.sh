# Sourced by cyrus/start.sh and courier/start.sh (servers run from their unpacked packages):
# parses "DIR CERT KEY [USER...]" into dir, cert, key and users (default: alice), checks root
# (exit 77 without it) and unpacks NAME's packages into root (exit 77 when they cannot be had).
#   . unpacked_server.sh NAME "$@"
name=$1
shift
[ $# -ge 3 ] || { echo "usage: $name/start.sh DIR CERT KEY [USER...]" >&2; exit 2; }
dir=$1 cert=$2 key=$3
shift 3
users=("${@:-alice}")
[ "$(id -u)" -eq 0 ] || { echo "$name/start.sh: must run as root" >&2; exit 77; }
root=$("$(dirname "${BASH_SOURCE[0]}")/$name/unpack.sh") ||
  { echo "$name/start.sh: $name's packages could not be downloaded and unpacked ($name/unpack.sh)" >&2; exit 77; }

# free_ports N: N distinct TCP ports free on 127.0.0.1 now, on one line.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
PY
}

# wait_listening PID LOG PORT...: until every PORT accepts a connection (up to 10 s); exits 1
# with LOG's text when PID has ended meanwhile.
wait_listening() {
  local pid=$1 log=$2
  shift 2
  for _ in $(seq 1 100); do
    if python3 - "$@" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
for p in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(p)), timeout=1).close()
PY
    kill -0 "$pid" 2>/dev/null || { echo "$name/start.sh: the server exited: $(cat "$log")" >&2; exit 1; }
    sleep 0.1
  done
}
