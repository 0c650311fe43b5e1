#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Fails when a source file with translatable strings is missing from
# po/POTFILES.in, or when POTFILES.in names a file that does not exist.
set -eu
srcdir=${1:?usage: check-potfiles.sh SRCDIR}
cd "$srcdir"

listed=$(grep -v '^#' po/POTFILES.in | sed '/^$/d' | sort -u)
found=$(find app daemon ui data \( -name '*.c' -o -name '*.ui' -o -name '*.desktop.in' \
          -o -name '*.metainfo.xml.in' \) -print |
        xargs grep -l -E '(^|[^A-Za-z0-9_])(_|N_|C_|NC_|ngettext|g_dngettext)[ ]*\(|translatable="yes"|^(Name|Comment|GenericName|Keywords)=|<(summary|description)>' 2>/dev/null |
        sort -u)

problems=0
for f in $found; do
  if ! printf '%s\n' "$listed" | grep -qx "$f"; then
    echo "# $f has translatable strings but is missing from po/POTFILES.in"
    problems=$((problems + 1))
  fi
done
for f in $listed; do
  if [ ! -f "$f" ]; then
    echo "# po/POTFILES.in names $f, which does not exist"
    problems=$((problems + 1))
  fi
done
echo "1..1"
if [ $problems -eq 0 ]; then
  echo "ok 1 - po/POTFILES.in lists every file with translatable strings"
else
  echo "not ok 1 - po/POTFILES.in is out of date ($problems problems)"
fi
