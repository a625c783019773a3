#!/usr/bin/env bash
# Builds hone once per version into a cache outside the checkout (so `git status` stays clean and
# self-hosted runners reuse it) and prints the folder holding the `hone` binary. On GitHub Actions
# it also puts that folder on PATH for the following steps.
#
# Env: HONE_SOURCE — where to get hone's sources (a git URL; required: your fork or mirror);
#      HONE_VERSION_REF — the tag or branch to build (default main);
#      HONE_PREFIX — the cache (default ~/.cache/hone/<ref>).
# Needs Swift 6 and the libgit2/libyaml headers (Debian/Ubuntu: apt-get install libgit2-dev libyaml-dev).
set -euo pipefail
ref="${HONE_VERSION_REF:-main}"
prefix="${HONE_PREFIX:-$HOME/.cache/hone/$ref}"
if [ ! -x "$prefix/bin/hone" ]; then
  src="${HONE_SOURCE:?set HONE_SOURCE to the git URL of hone's sources}"
  rm -rf "$prefix/src"
  mkdir -p "$prefix/bin"
  git clone --quiet --depth 1 --branch "$ref" "$src" "$prefix/src" >&2
  (cd "$prefix/src" && swift build -c release --static-swift-stdlib --product hone) >&2
  cp "$prefix/src/.build/release/hone" "$prefix/bin/hone"
fi
if [ -n "${GITHUB_PATH:-}" ]; then echo "$prefix/bin" >> "$GITHUB_PATH"; fi
echo "$prefix/bin"
