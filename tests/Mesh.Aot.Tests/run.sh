#!/usr/bin/env bash
# Native AOT test: samples/Counter publishes with PublishAot=true and zero trimming/AOT warnings, and the native
# binary makes the same calls as the JIT-compiled sample and prints the same output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/mesh-aot-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

dotnet publish samples/Counter/Counter.csproj -c Release -r linux-x64 -p:PublishAot=true -o "$work/out" --nologo 2>&1 | tee "$work/publish.log"
if grep -E 'warning (IL|CS|NU)[0-9]+' "$work/publish.log"; then
  echo "Native AOT publish printed warnings (above)." >&2
  exit 1
fi
[[ -x "$work/out/Counter" ]] || { echo "No native binary at $work/out/Counter" >&2; exit 1; }

expected=$(dotnet run --project samples/Counter -c Release)
actual=$("$work/out/Counter")
echo "$actual"
if [[ "$expected" != "$actual" ]]; then
  printf 'The native binary printed something else than the JIT sample.\nexpected:\n%s\nactual:\n%s\n' "$expected" "$actual" >&2
  exit 1
fi
echo "Native AOT test passed ($(du -h "$work/out/Counter" | cut -f1) binary)"
