#!/bin/sh
# OCI runtime shim: this host's capability bounding set lacks CAP_SYS_RESOURCE, so runc
# cannot grant it. Drop it from the bundle spec (create/run) and the exec process spec.
REAL_RUNC="${REAL_RUNC:-/usr/sbin/runc}"
strip() {
  [ -f "$1" ] || return 0
  tmp="$1.nosysres.$$"
  jq '(if .process then .process else . end).capabilities |= (if . then with_entries(.value |= map(select(. != "CAP_SYS_RESOURCE"))) else . end)' "$1" > "$tmp" && mv "$tmp" "$1"
}
bundle=""; process=""; prev=""
for arg in "$@"; do
  case "$prev" in
    --bundle|-b) bundle="$arg" ;;
    --process|-p) process="$arg" ;;
  esac
  case "$arg" in
    --bundle=*) bundle="${arg#--bundle=}" ;;
    --process=*) process="${arg#--process=}" ;;
  esac
  prev="$arg"
done
[ -n "$bundle" ] && strip "$bundle/config.json"
[ -n "$process" ] && strip "$process"
exec "$REAL_RUNC" "$@"
