#!/usr/bin/env bash
# A throwaway Keycloak for development and tests: fetched from Maven Central into a cache, started
# in development mode on 127.0.0.1 with the shop realm (scripts/keycloak/shop-realm.json) freshly
# imported, so every start begins from the same users, roles and keys.
#
#   scripts/keycloak.sh start   fetch if needed, start, wait until the realm answers
#   scripts/keycloak.sh stop    stop the server this script started
#
# KEYCLOAK_PORT (default 18080) picks the port; SHOP_CACHE_DIR (default ~/.cache/event-sourced-shop)
# where the distribution is kept. Admin console: admin / admin.
set -euo pipefail

version=26.5.6
port="${KEYCLOAK_PORT:-18080}"
cache="${SHOP_CACHE_DIR:-$HOME/.cache/event-sourced-shop}"
home="$cache/keycloak-$version"
pid_file="$cache/keycloak.pid"
log_file="$cache/keycloak.log"
realm_file="$(cd "$(dirname "$0")" && pwd)/keycloak/shop-realm.json"
realm_url="http://127.0.0.1:$port/realms/shop"

# Keycloak 26 runs on Java 21 or newer; the machine's default may be older.
java_home() {
  local candidate major best="" best_major=0
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [[ -n "$candidate" && -x "$candidate/bin/java" ]] || continue
    major=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
    if [[ -n "$major" && "$major" -gt "$best_major" ]]; then best="$candidate" best_major="$major"; fi
  done
  if [[ "$best_major" -lt 21 ]]; then
    echo "Keycloak $version needs Java 21 or newer; none found in JAVA_HOME or /usr/lib/jvm" >&2
    return 1
  fi
  echo "$best"
}

fetch() {
  [[ -x "$home/bin/kc.sh" ]] && return
  mkdir -p "$cache"
  mvn -B -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:tar.gz" \
    -DoutputDirectory="$cache"
  tar -xzf "$cache/keycloak-quarkus-dist-$version.tar.gz" -C "$cache"
  rm "$cache/keycloak-quarkus-dist-$version.tar.gz"
}

start() {
  if [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "Keycloak already runs (pid $(cat "$pid_file")); scripts/keycloak.sh stop first" >&2
    return 1
  fi
  fetch
  local java
  java=$(java_home)
  # A fresh development database each start: the realm is imported again, as the file says.
  rm -rf "$home/data/h2" "$home/data/import"
  mkdir -p "$home/data/import"
  cp "$realm_file" "$home/data/import/"
  JAVA_HOME="$java" KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
    setsid "$home/bin/kc.sh" start-dev --http-host 127.0.0.1 --http-port "$port" --import-realm \
    >"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  for _ in $(seq 1 180); do
    if curl -sf "$realm_url/.well-known/openid-configuration" >/dev/null; then
      echo "Keycloak $version answers at $realm_url"
      return
    fi
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "Keycloak did not come up; the end of $log_file:" >&2
  tail -n 30 "$log_file" >&2
  stop
  return 1
}

stop() {
  [[ -f "$pid_file" ]] || return 0
  local pid
  pid=$(cat "$pid_file")
  # setsid made the server the leader of its own process group: stop the whole group.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: scripts/keycloak.sh start|stop" >&2
    exit 2
    ;;
esac
