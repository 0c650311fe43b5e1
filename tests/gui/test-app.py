#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The app driven through its accessibility tree (meson test gui).

Runs inside run-gui-test.sh's X server and private session bus.  Starts
the test Exchange server with the demo mailbox and the build tree's app;
the app's first call activates the build tree's agendalined on the bus.
Through AT-SPI (dogtail's tree, pyatspi underneath) it adds the demo
account on the Accounts page (the CA file through the file chooser), checks
that "Add" tested it, presses "Test Connection" and waits for the server
version; reads "Presence", "Phone" and "Until" on the Status page against
"agendalinectl status --json", presses "Sync Now" and waits for a newer
sync; runs "Verify Sync" and checks the seconds of each step; then visits
every page, checks the names the pages promise (CONTRACT) and saves a PNG
of each (and of the whole page when it scrolls).  The app must close
cleanly and print no warnings.  Then the app is started again in Norwegian
Bokmål (with a daemon restarted in that language too) and every page is
shot again, reached by the page switcher's position, not its words.

Pictures and accessibility trees go to $AGL_TEST_SCREENSHOTS/{en,nb}/.
Every wait polls the tree against a deadline.  A failure says what was
missing, dumps the accessibility tree and prints the logs of the app, the
daemon and the server.  --password=WRONG shows the test failing.
"""

import argparse
import ctypes
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import traceback

from dogtail.config import config as dogtail_config

# The test sets accessibility up itself (run-gui-test.sh); dogtail's check
# reads a GSettings key that means nothing here.
dogtail_config.checkForA11y = False
dogtail_config.logDebugToFile = False
dogtail_config.logDebugToStdOut = False
dogtail_config.actionDelay = 0.1
dogtail_config.typingDelay = 0.02

import pyatspi  # noqa: E402
from dogtail import rawinput, tree  # noqa: E402

import gi  # noqa: E402
gi.require_version('Gdk', '3.0')
from gi.repository import Gdk, GLib  # noqa: E402

APP_NAME = 'agendaline'
ACCOUNT = 'Demo'
EMAIL = 'alice@example.org'
USER = 'alice'
DOMAIN = 'EXAMPLE'
PASSWORD = 'Agendaline-demo-1'

# The pages in the switcher's order, as the window declares them; the
# second language reaches them by position.
PAGES = ['accounts', 'status', 'rules', 'connections', 'agenda', 'verify']
# What GTK names a page's widget when it has no label: its type's name,
# the same in every language.
PAGE_TYPES = {
    'accounts': 'AglAccountsPage', 'status': 'AglStatusPage', 'rules': 'AglRulesPage',
    'connections': 'AglConnectionsPage', 'agenda': 'AglAgendaPage', 'verify': 'AglVerifyPage',
}

# The accessible names each page promises (the UI's contract with this
# test), checked on the English run's last visit.  "Account name" and
# "Add" belong to the new-account form, which the flow fills.
CONTRACT = {
    'accounts': ['Add Account', 'E-mail address', 'Find the server automatically', 'EWS URL',
                 'Exchange version', 'Authentication', 'User name', 'Password', 'Domain',
                 'CA file', 'Active', 'Save', 'Test Connection', 'Connection test result',
                 'Remove Account'],
    'status': ['Connection', 'Presence', 'Phone', 'Status text', 'Until', 'Why', 'Next 7 days',
               'Sync Now', 'Override'],
    'rules': ['Save Rules'],
    'connections': ['Log', 'Copy Log'],
    'agenda': ['Previous Week', 'This Week', 'Next Week', 'New Appointment', 'Conflicts'],
    'verify': ['Verify Sync', 'Local to Exchange', 'Exchange to local', 'Delete on Exchange',
               'Verify result'],
}

# Names a page shows only with something to show: checked only then.
CONTRACT_WHEN = {
    'Conflicts': lambda h: has_conflicts(h),
}

# Generous: a loaded CI machine, and an Exchange round trip or two each.
START_TIMEOUT = 30
STEP_TIMEOUT = 30
TEST_TIMEOUT = 60
SYNC_TIMEOUT = 90
VERIFY_TIMEOUT = 200
POLL = 0.1

T0 = time.monotonic()


class TestFailure(Exception):
    """A step that did not happen: the message says which."""


def log(message):
    print('# [%6.1f s] %s' % (time.monotonic() - T0, message), flush=True)


def env(name):
    value = os.environ.get(name)
    if not value:
        raise TestFailure('%s is not set; run this with "meson test gui"' % name)
    return value


# ---- the accessibility tree ----

def state_names(node):
    try:
        return [pyatspi.stateToString(s) for s in node.getState().getStates()]
    except Exception:  # a node that went away while we looked
        return []


def has_state(node, state):
    try:
        return node.getState().contains(state)
    except Exception:
        return False


def safe_name(node):
    try:
        return node.name or ''
    except Exception:
        return ''


def safe_role(node):
    try:
        return node.getRoleName()
    except Exception:
        return '?'


def node_text(node):
    """The Text interface's contents, or None."""
    try:
        text = node.queryText()
    except (NotImplementedError, Exception):
        return None
    try:
        return text.getText(0, -1)
    except Exception:
        return None


def node_description(node):
    try:
        return node.description or ''
    except Exception:
        return ''


def children(node):
    try:
        return [c for c in node if c is not None]
    except Exception:
        return []


def walk(node, depth=0):
    yield node, depth
    for child in children(node):
        yield from walk(child, depth + 1)


def describe(node):
    parts = ['[%s]' % safe_role(node), json.dumps(safe_name(node), ensure_ascii=False)]
    desc = node_description(node)
    if desc:
        parts.append('desc=%s' % json.dumps(desc, ensure_ascii=False))
    text = node_text(node)
    if text and text != safe_name(node):
        parts.append('text=%s' % json.dumps(text[:200], ensure_ascii=False))
    states = [s for s in state_names(node)
              if s in ('checked', 'pressed', 'selected', 'focused', 'busy', 'editable')]
    if not has_state(node, pyatspi.STATE_SENSITIVE):
        states.append('insensitive')
    if states:
        parts.append('{%s}' % ','.join(states))
    return ' '.join(parts)


def dump_tree(node, title, path=None, quiet=False):
    """The tree under @node into @path and, unless @quiet, on stdout."""
    lines = []
    for child, depth in walk(node):
        lines.append('  ' * depth + describe(child))
    text = '\n'.join(lines)
    if not quiet:
        print('---- accessibility tree: %s ----\n%s\n---- end of the tree ----' % (title, text),
              flush=True)
    if path:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text + '\n')
        log('accessibility tree (%s): %s' % (title, path))


def name_matches(node, wanted):
    """GTK 4.8 names a widget with its accessible label followed by the
    names of what labels it (a button's own label, a row's title), so a
    button labelled "Sync Now" in its .ui is "Sync Now Sync Now" on the
    bus, and the row labelled "Connection test result" whose title is
    "Connection test" is "Connection test result Connection test".  Both
    mean @wanted here; "Add Account" does not mean "Add"."""
    actual = safe_name(node)
    if actual == wanted:
        return True
    if not actual.startswith(wanted + ' '):
        return False
    rest = actual[len(wanted) + 1:]
    if rest == wanted:
        return True
    return any(safe_role(n) == 'label' and safe_name(n) == rest for n, _ in walk(node))


def find_all(scope, name=None, role=None, where=None, limit=None):
    """Descendants of @scope (itself included) with that accessible name
    and role name; the first @limit of them."""
    found = []
    for node, _ in walk(scope):
        if name is not None and not name_matches(node, name):
            continue
        if role is not None:
            roles = role if isinstance(role, (list, tuple)) else [role]
            if safe_role(node) not in roles:
                continue
        if where is not None and not where(node):
            continue
        found.append(node)
        if limit is not None and len(found) >= limit:
            break
    return found


class BusyEvents:
    """The "busy" state changes the app announces (a button that starts
    and ends a long job), recorded as they come: a job shorter than a
    poll interval is seen too."""

    def __init__(self):
        self.seen = []
        pyatspi.Registry.registerEventListener(self.on_event, 'object:state-changed:busy')

    def on_event(self, event):
        self.seen.append((safe_name(event.source), bool(event.detail1)))

    def clear(self):
        pump_events()
        self.seen = []

    def saw(self, name, busy):
        pump_events()
        return any(name_ok == busy and (seen_name == name or seen_name == name + ' ' + name)
                   for seen_name, name_ok in self.seen)


def pump_events():
    """Lets pyatspi deliver the events that have arrived."""
    context = GLib.MainContext.default()
    while context.pending():
        context.iteration(False)


def wait_for(what, condition, timeout, harness):
    """Polls @condition until it returns something true; fails saying
    @what after @timeout seconds (main() then dumps the tree).  Also fails
    at once when the app or the server exits."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        harness.check_alive()
        pump_events()
        try:
            result = condition()
            if result:
                return result
        except TestFailure:
            raise
        except Exception as error:  # the tree changes under us: try again
            last_error = error
        if time.monotonic() > deadline:
            detail = ' (last error: %r)' % last_error if last_error else ''
            raise TestFailure('%s: not within %d s%s' % (what, timeout, detail))
        time.sleep(POLL)


def is_shown(node):
    """Whether @node has room on screen: GTK 4.8 sets no SHOWING state,
    and a stack's hidden pages stay in the tree with no size."""
    try:
        extents = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
    except Exception:
        return False
    return extents.width > 0 and extents.height > 0


def outer_scrollers(node):
    """The scroll panes under @node that are in no other one."""
    for child in children(node):
        if safe_role(child) == 'scroll pane':
            yield child
        else:
            yield from outer_scrollers(child)


def row_texts(node):
    """What a row says: its name, description and every label and text
    under it, in order, without repeats."""
    texts = []
    for child, _ in walk(node):
        for text in (safe_name(child), node_description(child), node_text(child)):
            if text and text not in texts:
                texts.append(text)
    return texts


# ---- X11, for what AT-SPI cannot do: the window's size ----

class X11:
    """Just enough Xlib (from libX11, which GTK loads anyway) to list the
    top-level windows and resize one, as a window manager would: there is
    none under Xvfb, and GTK 4.8 implements no AT-SPI ScrollTo or
    GrabFocus to bring the end of a long page into view."""

    def __init__(self):
        c = ctypes
        self.lib = lib = c.CDLL('libX11.so.6')
        lib.XOpenDisplay.restype = c.c_void_p
        lib.XOpenDisplay.argtypes = [c.c_char_p]
        lib.XDefaultRootWindow.restype = c.c_ulong
        lib.XDefaultRootWindow.argtypes = [c.c_void_p]
        lib.XQueryTree.argtypes = [c.c_void_p, c.c_ulong, c.POINTER(c.c_ulong),
                                   c.POINTER(c.c_ulong), c.POINTER(c.POINTER(c.c_ulong)),
                                   c.POINTER(c.c_uint)]
        lib.XGetGeometry.argtypes = [c.c_void_p, c.c_ulong, c.POINTER(c.c_ulong),
                                     c.POINTER(c.c_int), c.POINTER(c.c_int),
                                     c.POINTER(c.c_uint), c.POINTER(c.c_uint),
                                     c.POINTER(c.c_uint), c.POINTER(c.c_uint)]
        lib.XResizeWindow.argtypes = [c.c_void_p, c.c_ulong, c.c_uint, c.c_uint]
        lib.XFlush.argtypes = [c.c_void_p]
        lib.XFree.argtypes = [c.c_void_p]
        self.display = lib.XOpenDisplay(None)
        if not self.display:
            raise TestFailure('cannot open the X display %r' % os.environ.get('DISPLAY'))
        self.root = lib.XDefaultRootWindow(self.display)

    def toplevels(self):
        """(window, x, y, width, height) of the root window's children."""
        c = ctypes
        root, parent = c.c_ulong(), c.c_ulong()
        windows, n = c.POINTER(c.c_ulong)(), c.c_uint()
        self.lib.XQueryTree(self.display, self.root, c.byref(root), c.byref(parent),
                            c.byref(windows), c.byref(n))
        found = []
        for i in range(n.value):
            x, y = c.c_int(), c.c_int()
            width, height, border, depth = c.c_uint(), c.c_uint(), c.c_uint(), c.c_uint()
            self.lib.XGetGeometry(self.display, windows[i], c.byref(root), c.byref(x),
                                  c.byref(y), c.byref(width), c.byref(height),
                                  c.byref(border), c.byref(depth))
            found.append((windows[i], x.value, y.value, width.value, height.value))
        if windows:
            self.lib.XFree(windows)
        return found

    def resize(self, window, width, height):
        self.lib.XResizeWindow(self.display, window, width, height)
        self.lib.XFlush(self.display)


# ---- the processes ----

def die_with_test():
    """In the child before exec: SIGTERM when the test dies, whatever
    kills it, so that no server or app outlives it."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Harness:
    def __init__(self, args):
        self.args = args
        self.scratch = env('AGL_TEST_SCRATCH')
        self.screenshots = env('AGL_TEST_SCREENSHOTS')
        self.server = None
        self.server_url = None
        self.app = None
        self.app_log = None
        self.app_log_path = None
        self.app_runs = 0
        self.window = None
        self.lang = 'en'
        self.saved = []
        self.tabs = None
        self.pages = {}
        self.page = None
        self.soft_failures = []
        self.x11 = None
        self.busy = BusyEvents()

    # -- the test Exchange server --

    def start_server(self):
        fixtures = env('AGL_EWS_SERVER_FIXTURES')
        kit = env('AGL_EWS_KIT')
        if not os.path.isdir(os.path.join(kit, 'schemas')):
            raise TestFailure('No EWS reference kit at %s (the test server needs it)' % kit)
        self.server_log_path = os.path.join(self.scratch, 'agl-ews-server.log')
        command = [env('AGL_TEST_EWS_SERVER'),
                   '--seed', os.path.join(fixtures, 'demo-seed.json'),
                   '--cert', os.path.join(fixtures, 'server.pem'),
                   '--key', os.path.join(fixtures, 'server-key.pem'),
                   '--kit', kit, '--port', '0']
        self.server = subprocess.Popen(command, stdout=subprocess.PIPE,
                                       stderr=open(self.server_log_path, 'w'),
                                       cwd=self.scratch, preexec_fn=die_with_test)
        ready, _, _ = select.select([self.server.stdout], [], [], START_TIMEOUT)
        line = self.server.stdout.readline().decode().strip() if ready else ''
        if not line.startswith('https://127.0.0.1:'):
            raise TestFailure('agl-ews-server printed no URL within %d s (got %r)'
                              % (START_TIMEOUT, line))
        self.server_url = line
        log('test Exchange server at %s' % line)

    # -- the daemon (D-Bus activation) --

    def daemon_pid(self):
        try:
            out = subprocess.run(
                ['dbus-send', '--session', '--print-reply=literal', '--dest=org.freedesktop.DBus',
                 '/org/freedesktop/DBus', 'org.freedesktop.DBus.GetConnectionUnixProcessID',
                 'string:io.github.agendaline.Daemon'],
                capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        match = re.search(r'uint32 (\d+)', out.stdout)
        return int(match.group(1)) if match else None

    def stop_daemon(self):
        """SIGTERM to the activated daemon; the next call activates it
        again, with the bus's activation environment of then."""
        pid = self.daemon_pid()
        if pid is None:
            return
        log('stopping agendalined (pid %d)' % pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while self.daemon_pid() is not None:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                raise TestFailure('agendalined did not exit on SIGTERM within 20 s')
            time.sleep(POLL)

    def set_activation_env(self, variables):
        args = ['dbus-send', '--session', '--print-reply', '--dest=org.freedesktop.DBus',
                '/org/freedesktop/DBus', 'org.freedesktop.DBus.UpdateActivationEnvironment',
                'dict:string:string:' + ','.join('%s,%s' % kv for kv in variables.items())]
        subprocess.run(args, check=True, capture_output=True, timeout=10)

    def ctl(self, *args):
        command = [env('AGL_TEST_CTL')] + list(args)
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        log('$ agendalinectl %s -> %d' % (' '.join(args), result.returncode))
        if result.returncode != 0:
            raise TestFailure('agendalinectl %s failed (%d): %s%s'
                              % (' '.join(args), result.returncode, result.stdout, result.stderr))
        return result.stdout

    # -- the app --

    def start_app(self, extra_env=None):
        self.app_runs += 1
        self.app_log_path = os.path.join(self.scratch, 'agendaline-%d.log' % self.app_runs)
        self.app_log = open(self.app_log_path, 'w')
        app_env = dict(os.environ)
        # A critical is a bug the test must catch, not a line in a log.
        app_env['G_DEBUG'] = 'fatal-criticals'
        app_env.update(extra_env or {})
        log('starting the app (%s)' % ', '.join('%s=%s' % kv for kv in (extra_env or {}).items()))
        self.app = subprocess.Popen([env('AGL_TEST_APP')], stdout=self.app_log,
                                    stderr=subprocess.STDOUT, env=app_env,
                                    cwd=self.scratch, preexec_fn=die_with_test)

        def app_node():
            for node in children(tree.root):
                if safe_name(node) == APP_NAME:
                    return node
            return None

        self.app_node = wait_for('the app "%s" on the accessibility bus' % APP_NAME,
                                 app_node, START_TIMEOUT, self)
        self.window = wait_for('the app\'s main window',
                               lambda: next((c for c in children(self.app_node)
                                             if safe_role(c) == 'frame'), None),
                               START_TIMEOUT, self)
        self.tabs = None
        self.pages = {}
        self.page = None
        log('the app is on the accessibility bus: window "%s"' % safe_name(self.window))
        self.wait_until_ready()
        log('the window shows its pages')

    def stop_app(self, close=False):
        """Ends the app: with @close as a user does (the window's close
        action, which must end it with status 0: a critical in its
        dispose aborts it), else with SIGTERM."""
        if self.app is None:
            return
        if close and self.app.poll() is None:
            try:
                self.window.doActionNamed('window.close')
            except Exception as error:
                # The app may be gone before it answers the call.
                log('the window\'s close action: %r' % error)
            try:
                self.app.wait(STEP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log('the app still runs %d s after its window was closed' % STEP_TIMEOUT)
        closed = close and self.app.poll() is not None
        if self.app.poll() is None:
            self.app.terminate()
            try:
                self.app.wait(10)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait()
        self.app_log.close()
        returncode = self.app.returncode
        self.app = None
        log('the app exited with %s' % returncode)
        if close and (not closed or returncode != 0):
            raise TestFailure('the app did not exit cleanly when its window was closed '
                              '(%s)' % ('status %s' % returncode if closed else 'it still ran'))

    def check_app_log(self):
        """The app must print no warnings or criticals (criticals abort
        it already: G_DEBUG=fatal-criticals)."""
        with open(self.app_log_path, encoding='utf-8', errors='replace') as f:
            bad = [line.rstrip() for line in f
                   if re.search(r'-(WARNING|CRITICAL) \*\*', line)]
        if bad:
            raise TestFailure('the app printed %d warning(s): %s' % (len(bad), ' / '.join(bad[:5])))

    def check_alive(self):
        if self.app is not None and self.app.poll() is not None:
            raise TestFailure('the app exited (status %s) while the test ran'
                              % self.app.returncode)
        if self.server is not None and self.server.poll() is not None:
            raise TestFailure('agl-ews-server exited (status %s)' % self.server.returncode)

    # -- what the test needs from the window --

    def page_tabs(self):
        """The view switcher's buttons, in page order (the wide switcher:
        the header bar holds a narrow one too)."""
        if self.tabs is None:
            lists = find_all(self.window, role='page tab list')
            if not lists:
                raise TestFailure('no page switcher (role "page tab list") in the window')
            tabs = [c for c in children(lists[0]) if safe_role(c) == 'page tab']
            if len(tabs) != len(PAGES):
                raise TestFailure('the page switcher has %d buttons, not %d'
                                  % (len(tabs), len(PAGES)))
            self.tabs = tabs
        return self.tabs

    def page_node(self, page):
        """The page's own widget: the scope of searches on it."""
        if not self.pages:
            first = self.find(PAGE_TYPES[PAGES[0]], 'filler', scope=self.window)
            for node in children(first.parent):
                for name, type_name in PAGE_TYPES.items():
                    if safe_name(node) == type_name:
                        self.pages[name] = node
        if page not in self.pages:
            raise TestFailure('the window has no %s' % PAGE_TYPES[page])
        return self.pages[page]

    def current_page(self):
        for index, tab in enumerate(self.page_tabs()):
            if has_state(tab, pyatspi.STATE_SELECTED) or has_state(tab, pyatspi.STATE_CHECKED):
                return PAGES[index]
        return None

    def show_page(self, page):
        """Presses the page's switcher button, found by its position."""
        index = PAGES.index(page)
        tab = self.page_tabs()[index]
        tab.doActionNamed('click')
        wait_for('page %d (%s) shown after its switcher button was pressed' % (index + 1, page),
                 lambda: self.current_page() == page and is_shown(self.page_node(page)),
                 STEP_TIMEOUT, self)
        self.page = page

    def wait_until_ready(self):
        """The window shows its pages, not "connecting" nor "the service is
        not running" (whose words the test then prints)."""
        def ready():
            if is_shown(self.page_node(PAGES[0]).parent):
                return True
            unavailable = find_all(self.window, 'The Agendaline Service Is Not Running',
                                   'panel', where=is_shown, limit=1)
            if unavailable:
                raise TestFailure('the window says %s' % row_texts(unavailable[0])[:2])
            return False
        try:
            wait_for('the window to show its pages (the daemon is ready)', ready,
                     START_TIMEOUT, self)
        except TestFailure as failure:
            if str(failure).startswith('the window says'):
                raise
            shown = [row_texts(n)[:2] for n in find_all(self.window, role='panel')
                     if is_shown(n) and 'Service' in safe_name(n)]
            raise TestFailure('%s%s' % (failure, '; the window says %s' % shown if shown else ''))

    def find(self, name, role=None, scope=None, timeout=STEP_TIMEOUT, where=None):
        """The first node named @name (and with role @role), waiting for it."""
        if scope is None:
            scope = self.page_node(self.page) if self.page else self.window
        what = 'a %s named "%s" on the %s page' % (role or 'node', name,
                                                  self.page or 'any')
        return wait_for(what, lambda: (find_all(scope, name, role, where, limit=1) or [None])[0],
                        timeout, self)

    def press(self, name, role=('push button', 'toggle button'), scope=None,
              timeout=STEP_TIMEOUT):
        """Presses the button named @name once it can be pressed."""
        button = self.find(name, role, scope=scope, timeout=timeout,
                           where=lambda n: has_state(n, pyatspi.STATE_SENSITIVE))
        log('pressing "%s"' % name)
        button.doActionNamed('click')
        return button

    def fill(self, name, value, scope=None):
        """Types @value into the text field named @name: the entry row's
        own text node when it has one."""
        node = self.find(name, scope=scope)
        target = node
        if not has_state(node, pyatspi.STATE_EDITABLE):
            editable = [n for n, _ in walk(node) if has_state(n, pyatspi.STATE_EDITABLE)]
            if not editable:
                raise TestFailure('"%s" has no editable text under it' % name)
            target = editable[0]
        try:
            target.queryEditableText().setTextContents(value)
        except NotImplementedError:
            raise TestFailure('"%s" does not implement EditableText' % name)
        # AdwEntryRow (libadwaita 1.2) takes the text but reads back ""
        # through AT-SPI; a field that says something else is wrong.
        shown = node_text(target)
        if shown and shown != value and name != 'Password':
            raise TestFailure('"%s" says %r after typing %r' % (name, shown, value))
        log('filled "%s"' % name)

    def set_switch(self, name, on):
        switch = self.find(name, ('switch', 'toggle button', 'check box'))
        checked = has_state(switch, pyatspi.STATE_CHECKED) or has_state(switch,
                                                                         pyatspi.STATE_PRESSED)
        if checked != on:
            switch.doActionNamed(_first_action(switch))
            wait_for('"%s" turned %s' % (name, 'on' if on else 'off'),
                     lambda: (has_state(switch, pyatspi.STATE_CHECKED)
                              or has_state(switch, pyatspi.STATE_PRESSED)) == on,
                     STEP_TIMEOUT, self)
        log('"%s" is %s' % (name, 'on' if on else 'off'))

    # -- screenshots --

    def frame_size(self):
        extents = self.window.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        return extents.width, extents.height

    def x_window(self):
        """The main window's X window: GTK's 5 px resize border around the
        frame's size."""
        if self.x11 is None:
            self.x11 = X11()
        width, height = self.frame_size()
        for window, x, y, w, h in self.x11.toplevels():
            if (w, h) == (width + 10, height + 10):
                return window
        raise TestFailure('no X window of %dx%d for the main window' % (width + 10, height + 10))

    def screenshot_full_page(self, page):
        """When the page scrolls, makes the window as tall as the page
        (within the screen), shoots it as <page>-full and gives the window
        its size back.  By geometry only, so in any language."""
        # The page's own scroller: the shown one (a stack's hidden page
        # keeps its old size, so the tallest content wins), not one that
        # scrolls inside it.
        best = None
        for scroller in outer_scrollers(self.page_node(page)):
            if not is_shown(scroller):
                continue
            # The viewport is as tall as what is seen; what it scrolls, a
            # level or two down, as tall as the page.
            seen = scroller.queryComponent().getExtents(pyatspi.WINDOW_COORDS).height
            needed = 0
            for node, depth in walk(scroller):
                if 0 < depth <= 3 and safe_role(node) != 'scroll bar':
                    try:
                        needed = max(needed, node.queryComponent().getExtents(
                            pyatspi.WINDOW_COORDS).height)
                    except Exception:
                        pass
            if best is None or needed > best[1]:
                best = (seen, needed)
        if best is None or best[1] <= best[0] + 2:
            return False
        seen, needed = best
        window = self.x_window()
        width, height = self.frame_size()
        screen = Gdk.get_default_root_window().get_height()
        tall = min(screen, height + 10 + needed - seen + 2)
        self.x11.resize(window, width + 10, tall)
        wait_for('the window to grow to %d px for the whole %s page' % (tall, page),
                 lambda: self.frame_size()[1] == tall - 10, STEP_TIMEOUT, self)
        self.screenshot(page + '-full')
        self.x11.resize(window, width + 10, height + 10)
        wait_for('the window to get its size back',
                 lambda: self.frame_size()[1] == height, STEP_TIMEOUT, self)
        return True

    def artefact(self, name):
        """A path for @name among this language's screenshots."""
        directory = os.path.join(self.screenshots, self.lang)
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, name)

    def screenshot(self, page, whole_screen=False):
        path = self.artefact('%s.png' % page)
        # Let the last change reach the screen: GTK draws on the next
        # frame after the tree changed.
        time.sleep(0.5)
        Gdk.flush()
        root = Gdk.get_default_root_window()
        width, height = root.get_width(), root.get_height()
        try:
            if whole_screen:
                # Every window there is (dialogs too), not the empty rest.
                if self.x11 is None:
                    self.x11 = X11()
                shown = [(x + w, y + h) for _, x, y, w, h in self.x11.toplevels()
                         if w > 10 and h > 10 and x >= 0 and y >= 0]
                if shown:
                    width = min(width, max(r for r, _ in shown))
                    height = min(height, max(b for _, b in shown))
            else:
                # Without a window manager the window is mapped at 0,0; its
                # X window has GTK's 5 px resize border around the frame.
                frame_width, frame_height = self.frame_size()
                width = min(width, frame_width + 10)
                height = min(height, frame_height + 10)
        except Exception:
            pass
        pixbuf = Gdk.pixbuf_get_from_window(root, 0, 0, width, height)
        if pixbuf is None:
            raise TestFailure('could not read the screen for %s' % path)
        pixbuf.savev(path, 'png', [], [])
        self.saved.append(path)
        log('screenshot: %s' % path)
        return path

    # -- on the way out --

    def dump_logs(self):
        for title, path in [('Xvfb', os.path.join(self.scratch, 'xvfb.log')),
                            ('agl-ews-server', getattr(self, 'server_log_path', None)),
                            ('agendalined', os.path.join(self.scratch, 'agendalined.log'))] + \
                [('agendaline run %d' % i,
                  os.path.join(self.scratch, 'agendaline-%d.log' % i))
                 for i in range(1, self.app_runs + 1)]:
            if not path or not os.path.exists(path):
                continue
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
            if not text:
                continue
            if title == 'agl-ews-server' and len(text) > 20000:
                text = '[…]\n' + text[-20000:]
            print('---- %s (%s) ----\n%s---- end of %s ----' % (title, path, text, title),
                  flush=True)

    def cleanup(self):
        self.stop_app()
        try:
            self.stop_daemon()
        except Exception as error:
            log('could not stop the daemon: %s' % error)
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()


def _first_action(node):
    action = node.queryAction()
    names = [action.getName(i) for i in range(action.nActions)]
    for preferred in ('click', 'activate', 'toggle', 'press'):
        if preferred in names:
            return preferred
    if not names:
        raise TestFailure('"%s" has no action' % safe_name(node))
    return names[0]


# ---- the English run: the flow ----

def add_account(h):
    h.show_page('accounts')
    h.screenshot('accounts-empty')
    h.press('Add Account')
    h.find('Account name')
    h.fill('Account name', ACCOUNT)
    h.fill('E-mail address', EMAIL)
    h.set_switch('Find the server automatically', False)
    h.fill('EWS URL', h.server_url)
    h.fill('User name', USER)
    h.fill('Password', h.args.password)
    h.fill('Domain', DOMAIN)
    choose_ca_file(h)
    h.screenshot('accounts-new')
    row = h.find('Connection test result')
    untested = node_description(row)
    add = find_all(h.page_node(h.page), 'Add', ('push button',),
                   where=lambda n: has_state(n, pyatspi.STATE_SENSITIVE), limit=1)
    # "Add" in the contract; a form that says "Save" for a new account
    # too is pressed as well.
    h.press('Add' if add else 'Save')
    # Stored once the form edits the account: it can be removed.
    h.find('Remove Account', 'push button', timeout=TEST_TIMEOUT)
    log('the account is stored: %s' % h.ctl('account', 'list').strip().replace('\n', ' / '))
    # "Add" tests the account too: a failure it shows fails the test now.
    row = h.find('Connection test result')
    wait_for('"Test Connection" to be sensitive after "Add"',
             lambda: find_all(row, 'Test Connection', 'push button', limit=1,
                              where=lambda n: has_state(n, pyatspi.STATE_SENSITIVE)),
             TEST_TIMEOUT, h)
    before = node_description(row)
    log('after "Add", "Connection test result" says %r' % before)
    if before and before != untested and not before.startswith('Connected'):
        raise TestFailure('after "Add", "Connection test result" says %r, not "Connected…"'
                          % before)
    h.busy.clear()
    h.press('Test Connection', timeout=TEST_TIMEOUT)
    # Announced busy while it tests, then not: the result below is this
    # test's, not the one "Add" made.
    wait_for('"Test Connection" to announce that it is busy, then that it is done',
             lambda: h.busy.saw('Test Connection', True) and h.busy.saw('Test Connection', False),
             TEST_TIMEOUT, h)
    result = wait_for_test_result(h, row, before)
    log('connection test result: %s' % result)
    h.screenshot('accounts-tested')


def choose_ca_file(h):
    """The test server's certificate is signed by the fixtures' CA: pick
    it in the file chooser the "Choose CA File" button opens, by typing
    its path as a user would."""
    ca = os.path.join(env('AGL_EWS_SERVER_FIXTURES'), 'ca.pem')
    h.press('Choose CA File')
    dialog = wait_for('the "Choose CA File" dialog',
                      lambda: next((c for c in children(h.app_node) if c != h.window), None),
                      STEP_TIMEOUT, h)
    log('file chooser: "%s"' % safe_name(dialog))
    # Typing a "/" in the file list opens the location entry.
    wait_for('the file chooser to have the keyboard focus',
             lambda: any(has_state(n, pyatspi.STATE_FOCUSED) for n, _ in walk(dialog)),
             STEP_TIMEOUT, h)
    rawinput.typeText('/')
    entry = wait_for('the file chooser\'s location entry (focused, editable text)',
                     lambda: next((n for n, _ in walk(dialog)
                                   if safe_role(n) == 'text'
                                   and has_state(n, pyatspi.STATE_EDITABLE)
                                   and has_state(n, pyatspi.STATE_FOCUSED)), None),
                     STEP_TIMEOUT, h)
    entry.queryEditableText().setTextContents(ca)
    h.screenshot('accounts-choose-ca-file', whole_screen=True)
    buttons = [n for n, _ in walk(dialog)
               if safe_role(n) == 'push button'
               and any(name_matches(n, word) for word in ('Choose', 'Open', 'Select'))
               and has_state(n, pyatspi.STATE_SENSITIVE)]
    if buttons:
        buttons[0].doActionNamed('click')
    else:
        rawinput.pressKey('Return')
    wait_for('the file chooser to close',
             lambda: dialog not in children(h.app_node), STEP_TIMEOUT, h)
    wait_for('the CA file row to show %s' % ca,
             lambda: any(ca in t or os.path.basename(ca) in t
                         for t in row_texts(h.find('CA file'))),
             STEP_TIMEOUT, h)
    log('CA file chosen: %s' % ca)


def wait_for_test_result(h, row, before):
    """The row's subtitle (its accessible description) once the test is
    over: "Connected…" passes; any other new words while "Test
    Connection" can be pressed again are the failure, shown at once."""
    def done():
        said = node_description(row)
        texts = [t for t in row_texts(row) if t.startswith('Connected')]
        button = find_all(row, 'Test Connection', 'push button', limit=1)
        idle = not button or has_state(button[0], pyatspi.STATE_SENSITIVE)
        if texts and idle:
            return texts[0]
        if idle and said != before and not said.startswith('Connected'):
            raise TestFailure('"Connection test result" says %r, not "Connected…" '
                              '(the whole row: %s)' % (said, row_texts(row)))
        return None
    return wait_for('"Connection test result" to say "Connected…" (it said %r before)' % before,
                    done, TEST_TIMEOUT, h)


def check_status(h):
    h.show_page('status')
    status = json.loads(h.ctl('status', ACCOUNT, '--json'))
    text_status = h.ctl('status', ACCOUNT)
    log('agendalinectl status: %s' % json.dumps(status, ensure_ascii=False))
    print(''.join('#   ' + line + '\n' for line in text_status.splitlines()), end='', flush=True)

    presence = h.find('Presence')
    phone = h.find('Phone')

    expected_presence = presence_words(status)
    wait_for('"Presence" to say %s (as GetStatus does)' % expected_presence,
             lambda: says(presence, expected_presence), STEP_TIMEOUT, h)
    expected_phone = phone_words(status)
    wait_for('"Phone" to say %s (as GetStatus does)' % expected_phone,
             lambda: says(phone, expected_phone), STEP_TIMEOUT, h)
    until = status.get('until')
    if until:
        # TZ=UTC (run-gui-test.sh): local time is the daemon's UTC.
        hour = until[11:16]
        wait_for('"Until" to say %s (GetStatus: until %s)' % (hour, until),
                 lambda: hour in ' '.join(row_texts(h.find('Until'))), STEP_TIMEOUT, h)
    log('Presence: %s' % row_texts(presence))
    log('Phone: %s' % row_texts(phone))
    for name in ('Connection', 'Status text', 'Until', 'Why', 'Next 7 days'):
        node = find_all(h.page_node(h.page), name)
        log('%s: %s' % (name, row_texts(node[0]) if node else 'not found'))

    before = last_sync(h)
    log('last sync before "Sync Now": %s' % before)
    h.press('Sync Now')
    # Done when the daemon has a newer sync and the button can be pressed
    # again (it cannot while the sync runs).
    wait_for('a sync after "Sync Now" (agendalinectl connections: last_sync newer than %s)'
             % before, lambda: last_sync(h) != before, SYNC_TIMEOUT, h)
    wait_for('"Sync Now" to be sensitive again',
             lambda: find_all(h.page_node('status'), 'Sync Now', 'push button',
                              where=lambda n: has_state(n, pyatspi.STATE_SENSITIVE), limit=1),
             SYNC_TIMEOUT, h)
    log('last sync after "Sync Now": %s' % last_sync(h))
    synced_rows = [t for t in row_texts(h.page_node('status')) if t.startswith('Synced')]
    log('the Status page says: %s' % synced_rows)
    h.screenshot('status-synced')
    log('synced')


def says(node, words):
    """Whether the texts of @node and its children hold every one of @words."""
    texts = ' | '.join(row_texts(node)).lower()
    return all(w.lower() in texts for w in words)


def check_override(h):
    """An override set by another client (agendalinectl) shows on the Status
    page at once, through StatusChanged, with "Clear Override"; pressing it
    brings the calendar's status back, on the page and in the daemon."""
    h.show_page('status')
    calendar = json.loads(h.ctl('status', ACCOUNT, '--json'))
    h.ctl('override', ACCOUNT, '--presence', 'dnd', '--action', 'divert',
          '--text', 'Writing the report')
    presence = h.find('Presence')
    phone = h.find('Phone')
    wait_for('"Presence" to say do not disturb after `agendalinectl override`',
             lambda: says(presence, ['do not disturb']), STEP_TIMEOUT, h)
    wait_for('"Phone" to say divert after `agendalinectl override`',
             lambda: says(phone, ['divert']), STEP_TIMEOUT, h)
    wait_for('"Status text" to say the override\'s text',
             lambda: says(h.find('Status text'), ['Writing the report']), STEP_TIMEOUT, h)
    h.screenshot('status-override')
    h.press('Clear Override')

    def cleared():
        status = json.loads(h.ctl('status', ACCOUNT, '--json'))
        return not any(b.get('kind') == 'override' for b in status.get('because', []))
    wait_for('the daemon to drop the override after "Clear Override"', cleared, STEP_TIMEOUT, h)
    expected = presence_words(calendar)
    wait_for('"Presence" to say %s again after "Clear Override"' % expected,
             lambda: says(presence, expected), STEP_TIMEOUT, h)
    log('override shown and cleared')


def presence_words(status):
    """The words the Presence row must hold for GetStatus's presence."""
    presence = find_key(status, 'presence')
    words = {
        'available': ['available'], 'busy': ['busy'], 'dnd': ['do not disturb'],
        'away': ['away'], 'out-of-office': ['out of office'],
    }
    if presence not in words:
        raise TestFailure('agendalinectl status --json has no known presence: %r' % presence)
    return words[presence]


def phone_words(status):
    phone = find_key(status, 'phone')
    action = phone.get('action') if isinstance(phone, dict) else phone
    words = {
        'none': ['rings as usual'], 'dnd': ['do not disturb'], 'forward': ['forward'],
        'divert': ['divert'],
    }
    if action not in words:
        raise TestFailure('agendalinectl status --json has no known phone action: %r' % action)
    return words[action]


def find_key(data, key):
    if isinstance(data, dict):
        if key in data:
            return data[key]
        for value in data.values():
            found = find_key(value, key)
            if found is not None:
                return found
    if isinstance(data, list):
        for value in data:
            found = find_key(value, key)
            if found is not None:
                return found
    return None


def last_sync(h):
    """The account's last sync as the daemon reports it (None before the
    first); seconds apart at the least, so the test waits for one first."""
    for connection in json.loads(h.ctl('connections', '--json')):
        if connection.get('name') == ACCOUNT:
            return connection.get('last_sync')
    raise TestFailure('agendalinectl connections does not list %s' % ACCOUNT)


def has_conflicts(h):
    data = json.loads(h.ctl('conflicts', 'list', '--json'))
    if isinstance(data, dict):
        data = find_key(data, 'conflicts') or []
    return bool(data)


def verify(h):
    h.show_page('verify')
    h.screenshot('verify-before')
    h.press('Verify Sync')
    seconds = re.compile(r'\d+(\.\d+)?\s*s\b|\d+(\.\d+)?\s*(second|seconds)\b')

    def result():
        node = h.find('Verify result')
        texts = row_texts(node)
        joined = ' | '.join(texts)
        if re.search(r'fail|error|gave up|could not|not reach', joined, re.I):
            raise TestFailure('Verify Sync failed: "Verify result" says %s' % texts)
        if seconds.search(joined) and re.search(r'pass|succe|ok\b|works|both ways', joined, re.I):
            return joined
        return None
    said = wait_for('"Verify result" to show success with seconds', result, VERIFY_TIMEOUT, h)
    log('Verify result: %s' % said)
    for leg in ('Local to Exchange', 'Exchange to local', 'Delete on Exchange'):
        texts = row_texts(h.find(leg))
        if not seconds.search(' | '.join(texts)):
            raise TestFailure('"%s" shows no seconds: %s' % (leg, texts))
        log('%s: %s' % (leg, texts))
    h.screenshot('verify-passed')


def visit_every_page(h, check_contract=False):
    """A picture of every page, and one of its end when it scrolls;
    in English, the contract's names checked on each."""
    for page in PAGES:
        h.show_page(page)
        h.screenshot(page)
        h.screenshot_full_page(page)
        if check_contract:
            nodes = [n for n, _ in walk(h.page_node(page)) if safe_name(n)]
            missing = [name for name in CONTRACT[page]
                       if not any(name_matches(n, name) for n in nodes)
                       and (name not in CONTRACT_WHEN or CONTRACT_WHEN[name](h))]
            if missing:
                h.soft_failures.append('the %s page has nothing named %s'
                                       % (page, ', '.join('"%s"' % m for m in missing)))
            else:
                log('the %s page has every name of the contract' % page)


def run_english(h):
    h.lang = 'en'
    h.start_app()
    add_account(h)
    check_status(h)
    check_override(h)
    verify(h)
    visit_every_page(h, check_contract=True)
    # Beside the pictures: every name the pages have, for their authors.
    dump_tree(h.window, 'English, at the end', h.artefact('tree.txt'), quiet=True)
    h.stop_app(close=True)
    h.check_app_log()
    if h.soft_failures:
        raise TestFailure('; '.join(h.soft_failures))


def run_norwegian(h):
    """Every page in Norwegian Bokmål, reached by the switcher's
    position: nothing here depends on what the words are."""
    h.lang = 'nb'
    variables = {'LANGUAGE': 'nb', 'LANG': os.environ.get('AGL_TEST_NB_LANG', 'C.UTF-8')}
    if os.environ.get('AGL_TEST_NB_LOCPATH'):
        variables['LOCPATH'] = os.environ['AGL_TEST_NB_LOCPATH']
    # This build's own translations (AGL_TEST_LOCALEDIR), which the app
    # and the daemon read from AGENDALINE_LOCALEDIR instead of the
    # installed locale directory.
    if os.environ.get('AGL_TEST_LOCALEDIR'):
        variables['AGENDALINE_LOCALEDIR'] = os.environ['AGL_TEST_LOCALEDIR']
    # The daemon's words (status reasons, errors) in Norwegian too.
    h.set_activation_env(variables)
    h.stop_daemon()
    h.start_app(variables)
    visit_every_page(h)
    titles = [safe_name(t) for t in h.page_tabs()]
    log('page switcher in Norwegian: %s' % titles)
    if titles[0] == 'Accounts':
        raise TestFailure('the page titles are in English: the app found no Norwegian '
                          'translation in AGENDALINE_LOCALEDIR (%s)'
                          % os.environ.get('AGL_TEST_LOCALEDIR'))
    dump_tree(h.window, 'Norwegian Bokmål, at the end', h.artefact('tree.txt'), quiet=True)
    h.stop_app(close=True)
    h.check_app_log()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--password', default=PASSWORD,
                        help='the password typed in (a wrong one must fail the test)')
    parser.add_argument('--explore', action='store_true',
                        help='only start the app, dump its tree and shoot every page')
    parser.add_argument('--only', choices=['en', 'nb'], default=None)
    args = parser.parse_args()

    h = Harness(args)
    # This run's pictures only: none left over from an earlier one.
    for lang in ('en', 'nb'):
        shutil.rmtree(os.path.join(h.screenshots, lang), ignore_errors=True)
    failures = []

    def attempt(title, run):
        """Runs one part; a failure is recorded, shot and dumped, and the
        next part still runs (the Norwegian pictures are wanted even when
        the English flow fails)."""
        try:
            run(h)
            return True
        except Exception as error:
            message = str(error) if isinstance(error, TestFailure) else \
                'the test itself broke: %r' % error
            failures.append('%s: %s' % (title, message))
            log('FAIL (%s): %s' % (title, message))
            traceback.print_exc(file=sys.stdout)
            if h.app is not None and h.window is not None:
                try:
                    h.screenshot('failure', whole_screen=True)
                    dump_tree(h.app_node, 'at the failure (%s)' % title,
                              h.artefact('tree-failure.txt'))
                except Exception:
                    traceback.print_exc(file=sys.stdout)
            h.stop_app()
            return False

    if attempt('the test Exchange server', lambda h: h.start_server()):
        if args.explore:
            attempt('exploring', explore)
        else:
            if args.only in (None, 'en'):
                attempt('English', run_english)
            if args.only in (None, 'nb'):
                attempt('Norwegian Bokmål', run_norwegian)
    h.cleanup()
    h.dump_logs()
    log('screenshots (%d):' % len(h.saved))
    for path in h.saved:
        print('#   %s' % path, flush=True)
    for failure in failures:
        log('FAIL: %s' % failure)
    log('PASS' if not failures else 'FAIL')
    return 0 if not failures else 1


def explore(h):
    h.start_app()
    dump_tree(h.window, 'at start')
    visit_every_page(h)
    h.stop_app()


if __name__ == '__main__':
    sys.exit(main())
