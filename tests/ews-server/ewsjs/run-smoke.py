#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# meson test ews-javascript-api: starts agl-ews-server (demo seed, TLS with
# the fixture certificate, a free port), runs ewsjs-smoke.js against it with
# Node.js and the npm packages in node_modules next to this file, and passes
# its TAP through.  Fails (never skips) when node or the packages are
# missing: the README's test command installs them.
#
#   run-smoke.py AGL-EWS-SERVER FIXTURES-DIR
# AGL_EWS_KIT must name the EWS reference kit (meson's test environment does).

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, 'ewsjs-smoke.js')
FIX = ("run the README's test command (the second command at the top of README.md: it "
       "installs Debian's nodejs and npm and runs "
       "'npm ci --prefix tests/ews-server/ewsjs --no-audit --no-fund')")
SERVER_START_SECONDS = 30
NODE_SECONDS = 90       # under meson's timeout for this test (120 s)
NODE_MAJOR_MIN = 18     # Debian 12's nodejs


def bail(reason):
    # TAP's "Bail out!" makes meson count the test as failed, with the reason.
    print('Bail out! ' + reason, flush=True)
    print(reason, file=sys.stderr, flush=True)
    sys.exit(1)


def check_node():
    node = shutil.which('node')
    if node is None:
        bail('node (Node.js) is not installed: ' + FIX)
    try:
        version = subprocess.run([node, '--version'], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()
        major = int(version.lstrip('v').split('.')[0])
    except (subprocess.SubprocessError, OSError, ValueError) as e:
        bail('%s --version failed (%s): %s' % (node, e, FIX))
    if major < NODE_MAJOR_MIN:
        bail('node %s is older than %d: %s' % (version, NODE_MAJOR_MIN, FIX))
    return node, version


def check_packages():
    # Each dependency must be installed at the version package.json pins.
    with open(os.path.join(HERE, 'package.json'), encoding='utf-8') as f:
        wanted = json.load(f)['dependencies']
    found = []
    for name, version in sorted(wanted.items()):
        manifest = os.path.join(HERE, 'node_modules', name, 'package.json')
        try:
            with open(manifest, encoding='utf-8') as f:
                installed = json.load(f).get('version')
        except (OSError, ValueError):
            bail('the npm package %s is not installed in %s: %s'
                 % (name, os.path.join(HERE, 'node_modules'), FIX))
        if installed != version:
            bail('the npm package %s is %s in node_modules, package.json wants %s: %s'
                 % (name, installed, version, FIX))
        found.append('%s %s' % (name, installed))
    return found


def read_line(stream, seconds):
    """The first line the stream gives within SECONDS, or None."""
    deadline = time.monotonic() + seconds
    data = b''
    fd = stream.fileno()
    while b'\n' not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b'\n', 1)[0].decode('utf-8', 'replace').strip()


def drain(stream):
    # Keeps the server from blocking on a full pipe; its stdout goes to our stderr.
    for line in iter(stream.readline, b''):
        sys.stderr.write('agl-ews-server: ' + line.decode('utf-8', 'replace'))


def stop(process, seconds=10):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def main():
    if len(sys.argv) != 3:
        bail('usage: run-smoke.py AGL-EWS-SERVER FIXTURES-DIR')
    server_bin, fixtures = sys.argv[1], sys.argv[2]

    node, node_version = check_node()
    packages = check_packages()
    print('# node %s (%s); %s' % (node_version, node, ', '.join(packages)), flush=True)

    server = subprocess.Popen(
        [server_bin,
         '--seed', os.path.join(fixtures, 'demo-seed.json'),
         '--cert', os.path.join(fixtures, 'server.pem'),
         '--key', os.path.join(fixtures, 'server-key.pem'),
         '--port', '0'],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        url = read_line(server.stdout, SERVER_START_SECONDS)
        if not url or not url.startswith('https://127.0.0.1:'):
            status = stop(server)
            bail('agl-ews-server printed no https URL within %d s (exit status %s, got %r)'
                 % (SERVER_START_SECONDS, status, url))
        threading.Thread(target=drain, args=(server.stdout,), daemon=True).start()
        print('# agl-ews-server at ' + url, flush=True)

        env = dict(os.environ)
        env['NODE_EXTRA_CA_CERTS'] = os.path.join(fixtures, 'ca.pem')
        # The server is on 127.0.0.1: a proxy from the environment (axios
        # honours them) must not be asked to reach it.
        for name in ('http_proxy', 'https_proxy', 'all_proxy',
                     'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'):
            env.pop(name, None)
        env['NO_PROXY'] = env['no_proxy'] = '127.0.0.1,localhost'
        env.pop('NODE_OPTIONS', None)
        sys.stdout.flush()
        try:
            status = subprocess.run([node, SCRIPT, url], cwd=HERE, env=env,
                                    stdin=subprocess.DEVNULL, timeout=NODE_SECONDS).returncode
        except subprocess.TimeoutExpired:
            bail('ewsjs-smoke.js did not finish within %d s' % NODE_SECONDS)
        if server.poll() is not None:
            bail('agl-ews-server exited during the run (status %s)' % server.returncode)
    finally:
        server_status = stop(server)
    if status == 0 and server_status != 0:
        bail('agl-ews-server exited with status %s when asked to stop' % server_status)
    return 0 if status == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
