#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The README's run command ends here, inside a private D-Bus session:
#
#   sh tests/ews-server/run-demo.sh BUILDDIR
#
# It starts the test Exchange server (agl-ews-server) with the demo mailbox
# alice@example.org on https://127.0.0.1:47443, adds it as the account "Demo"
# when no account is configured yet, shows what `agendalinectl account test`
# finds there, and then runs the app when there is a display, otherwise the
# live view of the daemon in the terminal.  The daemon itself is started by
# D-Bus activation.  The server checks every request against Microsoft's
# schemas, so it needs the EWS reference kit (../shared/ews beside the
# clone, or AGL_EWS_KIT); without it the demo runs without a server.
set -u

build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
kit=${AGL_EWS_KIT:-$here/../../../shared/ews}
port=${AGL_DEMO_PORT:-47443}
url="https://127.0.0.1:$port/EWS/Exchange.asmx"
server_pid=

stop_server () {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
}
trap stop_server EXIT INT TERM

if [ -d "$kit/schemas" ]; then
  "$build/tests/ews-server/agl-ews-server" --kit "$kit" --port "$port" \
    --seed "$here/fixtures/demo-seed.json" \
    --cert "$here/fixtures/server.pem" --key "$here/fixtures/server-key.pem" \
    > "${TMPDIR:-/tmp}/agendaline-demo-server.log" 2>&1 &
  server_pid=$!

  # The server prints its URL once it listens; give it ten seconds.
  tries=0
  until grep -q '^https://' "${TMPDIR:-/tmp}/agendaline-demo-server.log" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null || [ $tries -ge 100 ]; then
      echo "The demo Exchange server did not start:" >&2
      cat "${TMPDIR:-/tmp}/agendaline-demo-server.log" >&2
      server_pid=
      break
    fi
    tries=$((tries + 1))
    sleep 0.1
  done
else
  echo "No EWS reference kit at $kit: running without the demo Exchange server." >&2
fi

if [ -n "$server_pid" ]; then
  if [ "$(agendalinectl account list --json | tr -d ' \n')" = "[]" ]; then
    printf '%s\n' 'Agendaline-demo-1' |
      agendalinectl account add Demo --email alice@example.org --url "$url" \
        --auth ntlm --domain EXAMPLE --user alice \
        --ca-file "$here/fixtures/ca.pem" --password-stdin
  fi
  agendalinectl account test Demo
fi

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  agendaline
else
  agendalinectl monitor
fi
