#!/usr/bin/env bash
# The wheelhouse deploy/Dockerfile installs from with `pip install --no-index`: a wheel of every
# dependency pinned in pyproject.toml and of everything they need, made here with `pip wheel`
# where the package index (or its mirror) is reachable, so the image builds with no index at
# all, at the versions deploy/constraints.txt locks. Written to deploy/wheelhouse/ (git-ignored,
# part of the build context) with requirements.txt and constraints.txt, the pins it was made from.
#   bash deploy/images/wheelhouse.sh        (make wheelhouse)
# Cached in $CASEBOOK_CACHE/wheelhouse/ (default /var/cache/casebook), keyed by a hash of the
# pins, the lock and the Python that made the wheels: a clean checkout with the same copies them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CACHE="${CASEBOOK_CACHE:-/var/cache/casebook}/wheelhouse"
DEST="$ROOT/deploy/wheelhouse"

say() { printf 'wheelhouse: %s\n' "$*" >&2; }

requirements="$("$PYTHON" - "$ROOT/pyproject.toml" <<'PY'
import sys
import tomllib

with open(sys.argv[1], "rb") as file:
    project = tomllib.load(file)["project"]
# The build of Casebook itself needs nothing from here: the image runs it from /app.
print("\n".join(project["dependencies"]))
PY
)"
# Wheels are made for the Python that makes them (3.11, glibc, x86_64 or arm64), which is what
# both base images of deploy/Dockerfile run.
interpreter="$("$PYTHON" -c 'import sys, sysconfig; print(sys.implementation.cache_tag, sysconfig.get_platform())')"
constraints="$ROOT/deploy/constraints.txt"
key="$(printf '%s\n%s\n%s\n' "$requirements" "$(cat "$constraints")" "$interpreter" \
  | sha256sum | cut -c1-16)"
cached="$CACHE/$key"

if [ ! -f "$cached/requirements.txt" ]; then
  say "making wheels for $interpreter into $cached"
  mkdir -p "$CACHE"
  work="$(mktemp -d "$CACHE/.work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  printf '%s\n' "$requirements" > "$work/requirements.txt"
  cp "$constraints" "$work/constraints.txt"
  "$PYTHON" -m pip wheel --quiet --wheel-dir "$work" --requirement "$work/requirements.txt" \
    --constraint "$work/constraints.txt"
  mv "$work" "$cached"
fi

rm -rf "$DEST"
mkdir -p "$DEST"
# Hard links where the cache and the checkout share a file system; copies elsewhere.
cp -l "$cached"/* "$DEST"/ 2>/dev/null || cp "$cached"/* "$DEST"/
say "deploy/wheelhouse: $(find "$DEST" -name '*.whl' | wc -l) wheels (key $key)"
