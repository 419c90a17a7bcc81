#!/usr/bin/env bash
# clang-format gate: the C++ lines changed relative to a base must be as clang-format 14 (Debian
# clang-format, .clang-format at the root) would write them. Only changed lines are checked, not
# whole files: most files predate the gate (about 130 of 200 would be reformatted), and a
# refactor should not have to reformat every file it touches.
#
# The base, in order:
#   1. $CRM_FORMAT_BASE (any commit-ish), or the first argument;
#   2. the merge base with origin/main, or else with main, if HEAD is not already on it
#      (a branch: all of its commits, plus uncommitted changes);
#   3. otherwise HEAD's first parent: on main, or in CI's fresh clone, the last commit (for a
#      merge, everything the merge brought in). A clone without that parent (depth 1, or the
#      root commit) checks nothing and says so.
# Fails naming each file with an excerpt of clang-format's diff. To fix:
#   git diff -U0 --no-color BASE -- '*.cpp' '*.hpp' '*.h' | clang-format-diff-14 -p1 -i
set -euo pipefail
cd "$(dirname "$0")/.."

fmt_diff=$(command -v clang-format-diff-14 || command -v clang-format-diff || true)
if [ -z "$fmt_diff" ]; then
  echo "format gate: clang-format-diff-14 not found (Debian package clang-format)" >&2
  exit 2
fi

base=${CRM_FORMAT_BASE:-${1:-}}
what=""
if [ -z "$base" ]; then
  for ref in origin/main main; do
    if git rev-parse -q --verify "$ref^{commit}" >/dev/null; then
      mb=$(git merge-base "$ref" HEAD 2>/dev/null || true)
      if [ -n "$mb" ] && [ "$mb" != "$(git rev-parse HEAD)" ]; then
        base=$mb
        what="changes since $ref (merge base ${mb:0:12})"
      fi
      break
    fi
  done
fi
if [ -z "$base" ]; then
  if git rev-parse -q --verify 'HEAD^1^{commit}' >/dev/null; then
    base=$(git rev-parse 'HEAD^1')
    what="the last commit ($(git rev-parse --short HEAD), against its first parent)"
  else
    echo "format gate: no base commit (shallow clone or root commit): nothing checked"
    exit 0
  fi
fi
[ -n "$what" ] || what="changes since $base"

pathspec=('*.cpp' '*.hpp' '*.h' '*.cc' ':!tests/data/')
files=$(git diff --name-only --diff-filter=ACMR "$base" -- "${pathspec[@]}")
out=$(git diff -U0 --no-color --diff-filter=ACMR "$base" -- "${pathspec[@]}" | "$fmt_diff" -p1 2>&1 || true)
n=$(printf '%s' "$files" | grep -c . || true)
if [ -z "$out" ]; then
  echo "format gate: $n changed C++ files checked ($what): formatted"
  exit 0
fi
bad=$(printf '%s\n' "$out" | sed -n 's/^--- \(.*\)\t(before formatting)$/\1/p')
for f in $bad; do
  echo "$f: not formatted as clang-format 14 would (.clang-format); excerpt:"
  printf '%s\n' "$out" | awk -v f="$f" '
    /^--- / { on = ($2 == f) } on' | sed -n '3,22p' | sed 's/^/    /'
done
echo "format gate: $(printf '%s\n' "$bad" | grep -c .) of $n changed C++ files not formatted ($what)."
echo "format gate: fix with: git diff -U0 --no-color $base -- '*.cpp' '*.hpp' '*.h' | $(basename "$fmt_diff") -p1 -i"
exit 1
