#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Regenerates agl-ews-response-codes.h from Microsoft's EWS schema, so the
# error domain covers every ResponseCodeType value the server can send and
# nothing is typed by hand.  ResponseCodeType is declared in messages.xsd
# (types.xsd only has the small InvalidRecipientResponseCodeType).
#
# Usage: daemon/ews/gen-response-codes.sh [SCHEMA_DIR] > daemon/ews/agl-ews-response-codes.h
set -eu

schemas=${1:-$(dirname "$0")/../../../shared/ews/schemas}
xsd="$schemas/messages.xsd"
sum=$(sha256sum "$xsd" | cut -d' ' -f1)

codes=$(xmllint --xpath \
  '//*[local-name()="simpleType"][@name="ResponseCodeType"]//*[local-name()="enumeration"]/@value' \
  "$xsd" | sed -n 's/^ *value="\([A-Za-z0-9]*\)"$/\1/p')
count=$(printf '%s\n' "$codes" | wc -l)

# A duplicated name would give two enum values one D-Bus name.
dups=$(printf '%s\n' "$codes" | sort | uniq -d)
if [ -n "$dups" ]; then
  echo "gen-response-codes.sh: duplicate values: $dups" >&2
  exit 1
fi

cat <<HEADER
/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * GENERATED FILE, do not edit: daemon/ews/gen-response-codes.sh
 * from shared/ews/schemas/messages.xsd (simpleType ResponseCodeType),
 * sha256 $sum
 *
 * AGL_EWS_RESPONSE_CODES (X) calls X (SYMBOL, "SchemaName") once per value,
 * in schema order; SYMBOL is the name without its "Error" prefix.
 */
#pragma once

#define AGL_EWS_RESPONSE_CODE_COUNT $count

#define AGL_EWS_RESPONSE_CODES(X) \\
HEADER

printf '%s\n' "$codes" | while read -r code; do
  sym=$(printf '%s' "$code" | sed -E 's/^Error//; s/([a-z0-9])([A-Z])/\1_\2/g; s/([A-Z])([A-Z][a-z])/\1_\2/g' |
        tr 'a-z' 'A-Z')
  printf '  X (%s, "%s") \\\n' "$sym" "$code"
done
printf '  /* end of list */\n'
