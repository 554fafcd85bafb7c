#!/usr/bin/env bash
# Installs everything the test suites need on a fresh machine:
#   - npm packages (Deno and Bun come pinned from npm),
#   - Debian packages: Chromium (browser suite), openssl (test certificates),
#     redis-server (Redis store suites), PostgreSQL (Postgres store suites).
# Run on Debian/Ubuntu (`npm run setup`), as root or with sudo. Elsewhere,
# install the same programs with your package manager so that `chromium`,
# `openssl`, `redis-server`, `redis-cli` and PostgreSQL's `initdb`/`pg_ctl`
# are present, then run `npm ci`.
#
# SETUP_DRY_RUN=1 only says what it would install (tests/setup_test.ts);
# SETUP_PG_ROOT (default /usr/lib/postgresql) is where PostgreSQL's versioned
# bin/ folders are looked for, as tests/_postgres_server.ts looks for them.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_root="${SETUP_PG_ROOT:-/usr/lib/postgresql}"
dry_run="${SETUP_DRY_RUN:-}"

has_postgres() {
  compgen -G "$pg_root/*/bin/initdb" >/dev/null &&
    compgen -G "$pg_root/*/bin/postgres" >/dev/null
}

# What the suites run, and the Debian packages that bring it.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
has_postgres || missing+=(postgresql)

if [ -n "$dry_run" ]; then
  echo "setup: would install: ${missing[*]:-nothing}"
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing ${missing[*]}, and there is no apt-get here." >&2
    echo "setup: install them with your package manager, then run npm ci." >&2
    exit 1
  fi
  # apt-get needs root: as root, run it; otherwise through sudo, if any.
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: missing ${missing[*]}; installing them with apt-get needs root, and there is no sudo here." >&2
      echo "setup: run npm run setup as root, or install them yourself, then run npm ci." >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  echo "setup: installing ${missing[*]} with ${as_root[*]:+sudo }apt-get"
  "${as_root[@]}" apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  # The Debian package starts services of its own; the tests start theirs.
  "${as_root[@]}" service redis-server stop >/dev/null 2>&1 || true
  "${as_root[@]}" service postgresql stop >/dev/null 2>&1 || true
  # An install that left a program out fails here, not in a test later.
  for program in chromium openssl redis-server redis-cli; do
    if ! command -v "$program" >/dev/null 2>&1; then
      echo "setup: $program is still missing after apt-get install" >&2
      exit 1
    fi
  done
  if ! has_postgres; then
    echo "setup: PostgreSQL's initdb and postgres are still missing under $pg_root after apt-get install" >&2
    exit 1
  fi
else
  echo "setup: system packages present (chromium, openssl, redis-server, postgresql)"
fi

npm ci
