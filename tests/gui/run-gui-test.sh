#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The UI test's environment (meson test gui):
#
#   run-gui-test.sh [test-app.py options]
#
# An X server of its own (xvfb-run), a private session bus
# (dbus-run-session) whose only services are the build tree's agendalined
# and the accessibility bus launcher (org.a11y.Bus, from at-spi2-core), a
# scratch home, and a Norwegian Bokmål locale compiled into the scratch
# directory (no root, no /etc/locale.gen).  test-app.py does the rest: the
# test Exchange server, the app and the daemon's activation on demand.
#
# Meson sets AGL_TEST_DAEMON, AGL_TEST_CTL, AGL_TEST_APP,
# AGL_TEST_EWS_SERVER, AGL_EWS_SERVER_FIXTURES, AGL_EWS_KIT,
# AGL_TEST_SCREENSHOTS (where the PNGs and the accessibility trees go) and
# AGL_TEST_LOCALEDIR (the build's translations).  AGL_TEST_KEEP_SCRATCH=1
# keeps the scratch directory (logs, database) for a look afterwards.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

for var in AGL_TEST_DAEMON AGL_TEST_CTL AGL_TEST_APP AGL_TEST_EWS_SERVER \
           AGL_EWS_SERVER_FIXTURES AGL_EWS_KIT AGL_TEST_SCREENSHOTS; do
  eval "value=\${$var:-}"
  if [ -z "$value" ]; then
    echo "$var is not set; run this with “meson test gui”" >&2
    exit 1
  fi
done

missing=
for program in xvfb-run xauth dbus-run-session dbus-daemon dbus-send; do
  command -v "$program" >/dev/null 2>&1 || missing="$missing $program"
done
# Debian's python3 with python3-dogtail, not one a version manager put
# first in PATH.
python=
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import dogtail, pyatspi' >/dev/null 2>&1; then
    python=$candidate
    break
  fi
done
[ -n "$python" ] || missing="$missing python3-dogtail"
a11y_service=
for dir in /usr/share/dbus-1/services /usr/local/share/dbus-1/services; do
  if [ -f "$dir/org.a11y.Bus.service" ]; then
    a11y_service=$dir/org.a11y.Bus.service
    break
  fi
done
[ -n "$a11y_service" ] || missing="$missing at-spi2-core"
if [ -n "$missing" ]; then
  # Fails rather than skips: CI must run this test.
  echo "Not installed:$missing (see the README's test command)" >&2
  exit 1
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/agl-gui-test.XXXXXX")
cleanup () {
  status=$?
  if [ "${AGL_TEST_KEEP_SCRATCH:-}" = 1 ]; then
    echo "# scratch directory kept: $scratch" >&2
  else
    rm -rf "$scratch"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$scratch/home/.config" "$scratch/home/.local/share" "$scratch/home/.cache" \
         "$scratch/services" "$scratch/locale" "$scratch/runtime"
chmod 700 "$scratch/runtime"

# The daemon as D-Bus activation starts it: the build tree's binary on the
# scratch database, its output in a log the test prints.  It inherits the
# bus's environment (below), which the test changes for the second
# language with UpdateActivationEnvironment.
# Criticals abort it (bugs); warnings do not: without a Secret Service on
# this bus it warns, as it should, that passwords go to its file.
cat > "$scratch/agendalined.sh" <<EOF
#!/bin/sh
G_DEBUG=fatal-criticals exec "$AGL_TEST_DAEMON" --db "$scratch/agenda.db" --verbose >> "$scratch/agendalined.log" 2>&1
EOF
chmod +x "$scratch/agendalined.sh"
cat > "$scratch/services/io.github.agendaline.Daemon.service" <<EOF
[D-BUS Service]
Name=io.github.agendaline.Daemon
Exec=$scratch/agendalined.sh
EOF
# at-spi-bus-launcher, which the app and the test both ask for the
# accessibility bus's address; its own bus finds the registry by itself.
sed '/^SystemdService=/d' "$a11y_service" > "$scratch/services/org.a11y.Bus.service"

# A session bus like the standard one, but whose services are only these:
# never an installed agendalined, a Secret Service (the daemon keeps the
# password in its fallback file) or systemd.
cat > "$scratch/session.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=$scratch</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$scratch/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="service_start_timeout">60000</limit>
</busconfig>
EOF

# nb_NO.UTF-8 for the second run, compiled where LOCPATH finds it.  With
# LANG=C.UTF-8 gettext would still follow LANGUAGE=nb, but dates and
# numbers would stay C; a missing locale source only costs those.
if command -v localedef >/dev/null 2>&1 &&
   localedef -i nb_NO -f UTF-8 "$scratch/locale/nb_NO.UTF-8" >/dev/null 2>&1; then
  export AGL_TEST_NB_LOCPATH="$scratch/locale"
  export AGL_TEST_NB_LANG=nb_NO.UTF-8
else
  echo "# localedef could not compile nb_NO.UTF-8: the Norwegian run uses LANG=C.UTF-8" >&2
  export AGL_TEST_NB_LANG=C.UTF-8
fi

export AGL_TEST_SCRATCH="$scratch"
export HOME="$scratch/home"
export XDG_CONFIG_HOME="$scratch/home/.config"
export XDG_DATA_HOME="$scratch/home/.local/share"
export XDG_CACHE_HOME="$scratch/home/.cache"
export XDG_RUNTIME_DIR="$scratch/runtime"
unset XDG_CONFIG_DIRS XDG_SESSION_TYPE WAYLAND_DISPLAY DISPLAY DBUS_SESSION_BUS_ADDRESS
unset AT_SPI_BUS_ADDRESS NO_AT_BRIDGE GTK_MODULES SESSION_MANAGER
# The English run; test-app.py switches for the second language.
unset LC_ALL LC_MESSAGES LANGUAGE
export LANG=C.UTF-8
# No dconf: settings (GTK's, dogtail's) from memory.
export GSETTINGS_BACKEND=memory
# GTK 4's accessibility over AT-SPI (its default; stated in case the
# caller's environment turned it off), the X11 backend under Xvfb, and no
# GL: at best software GL there, and the cairo renderer is enough.
export GTK_A11Y=atspi
export GDK_BACKEND=x11
export GSK_RENDERER=cairo
export GDK_DEBUG=gl-disable
# Proxies from the caller would take the test server's requests away.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export GIO_USE_PROXY_RESOLVER=dummy no_proxy='*'
# The demo seed's dates are relative to the local week.
export TZ=UTC

echo "# scratch: $scratch; python: $python"
xvfb-run -a -e "$scratch/xvfb.log" -s "-screen 0 1280x2000x24 -nolisten tcp" \
  dbus-run-session --config-file="$scratch/session.conf" -- \
  env -u G_DEBUG \
  "$python" "$here/test-app.py" "$@"
