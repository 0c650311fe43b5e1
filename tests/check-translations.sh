#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Every language in po/LINGUAS must translate every string of the current
# sources: no untranslated and no fuzzy messages, and msgfmt --check clean.
set -eu
srcdir=${1:?usage: check-translations.sh SRCDIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$srcdir"

grep -v '^#' po/POTFILES.in | sed '/^$/d' > "$tmp/files"
xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
  --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --keyword=ngettext:1,2 \
  --files-from="$tmp/files" --output="$tmp/agendaline.pot" 2>"$tmp/xgettext.err" || {
  cat "$tmp/xgettext.err"; echo "not ok 1 - xgettext"; echo "1..1"; exit 1; }

n=0
for lang in $(grep -v '^#' po/LINGUAS); do
  n=$((n + 1))
  msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$tmp/agendaline.pot" -o "$tmp/$lang.po"
  stats=$(msgfmt --check --statistics -o /dev/null "$tmp/$lang.po" 2>&1) || {
    echo "not ok $n - $lang: msgfmt --check failed: $stats"; continue; }
  case "$stats" in
    *untranslated*|*fuzzy*) echo "not ok $n - $lang is incomplete: $stats" ;;
    *) echo "ok $n - $lang: $stats" ;;
  esac
done
echo "1..$n"
