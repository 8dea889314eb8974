#!/usr/bin/env bash
# The packed-package test: `dotnet pack Mesh.Sdk.sln` into a folder, then build and run a console project
# outside the repository that references only the Mesh.Sdk package from that folder.
# The consumer restores into a private packages folder, so a stale Mesh.Sdk from an earlier run is never used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mesh-package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

dotnet pack Mesh.Sdk.sln -c Release -o "$work/feed" --nologo -v:quiet
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
for p in Mesh.Sdk Mesh.Abstractions Mesh.Runtime Mesh.Transport.Quic; do
  [[ -f "$work/feed/$p.$version.nupkg" ]] || { echo "dotnet pack did not produce $p.$version.nupkg" >&2; ls "$work/feed" >&2; exit 1; }
done
# The listing is read once: `unzip -l | grep -q` fails under pipefail when grep exits before unzip has written everything.
listing=$(unzip -l "$work/feed/Mesh.Sdk.$version.nupkg")
for dll in Mesh.Generators Mesh.Analyzers Mesh.Analyzers.CodeFixes; do
  if ! grep -q "analyzers/dotnet/cs/$dll.dll" <<<"$listing"; then
    echo "Mesh.Sdk.$version.nupkg does not carry $dll.dll in analyzers/dotnet/cs" >&2
    exit 1
  fi
done

if ! grep -q 'runtimes/linux-x64/native/libmesh_quic.so' <<<"$listing"; then
  echo "Mesh.Sdk.$version.nupkg does not carry runtimes/linux-x64/native/libmesh_quic.so (the native QUIC library)" >&2
  exit 1
fi

mkdir -p "$work/consumer"
cp tests/Mesh.Package.Tests/consumer/Program.cs "$work/consumer/"
sed -e "s|@MESH_VERSION@|$version|" -e "s|@MESH_FEED@|$work/feed|" \
  tests/Mesh.Package.Tests/consumer/Consumer.csproj.template > "$work/consumer/Consumer.csproj"

cd "$work/consumer"
dotnet build -c Release --nologo -p:RestorePackagesPath="$work/packages" -p:RestoreFallbackFolders="$HOME/.nuget/packages" 2>&1 | tee "$work/build.log"
grep -q ' 0 Warning(s)' "$work/build.log" || { echo "The consumer build printed warnings." >&2; exit 1; }
[[ -f bin/Release/net10.0/runtimes/linux-x64/native/libmesh_quic.so ]] || { echo "The consumer's output lacks runtimes/linux-x64/native/libmesh_quic.so." >&2; exit 1; }
output=$(dotnet run -c Release --no-build)
echo "$output"
grep -qx 'counter_1 = 3' <<<"$output" || { echo "The consumer did not print the expected counter value." >&2; exit 1; }
echo "Packed-package test passed: $(ls "$work/feed" | tr '\n' ' ')"
