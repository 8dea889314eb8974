#!/usr/bin/env bash
# Runs every test of the repository on a fresh Debian 12 machine with the .NET 10 SDK:
# installs the system packages the build needs, builds with zero warnings, runs the native QUIC library's cargo tests,
# all test projects, the benchmark runner in --smoke mode, the packed-package test and the Native AOT test.
#   bash tests/run.sh            everything
#   bash tests/run.sh --quick    skip the packed-package and Native AOT tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true

step() { printf '\n==> %s\n' "$*"; }

# System packages: clang + zlib1g-dev for Native AOT, gcc/make for the native QUIC library's C parts (ring),
# unzip for the packed-package test; apt, dpkg, gpgv, debian-archive-keyring and ca-certificates for
# src/Mesh.Transport.Quic/native/scripts/vendor-crates.sh, which downloads the Rust crates from Debian sid
# with a private apt configuration (verified against the Debian archive keyring); iproute2 (network namespaces) and
# openssl (samples/Kubernetes/make-certs.sh) for tests/Mesh.Cluster.Tests.
needed=(clang zlib1g-dev gcc make unzip apt dpkg gpgv debian-archive-keyring ca-certificates iproute2 openssl)
missing=()
for p in "${needed[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  step "Installing system packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# cargo builds the native QUIC library during `dotnet build` (src/Mesh.Transport.Quic/Mesh.Transport.Quic.Native.targets).
# rustup installs it into ~/.cargo/bin without always putting that on PATH (non-login shells, CI).
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
rust_needed=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' src/Mesh.Transport.Quic/native/Cargo.toml)
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found (neither on PATH nor in \$HOME/.cargo/bin): the native QUIC library needs Rust $rust_needed or newer." >&2
  echo "Install it with rustup, or build with -p:MeshQuicCargo=/path/to/cargo." >&2
  exit 1
fi
cargo_version=$(cargo --version | awk '{print $2}')
cargo_version=${cargo_version%%-*}
if [[ "$(printf '%s\n%s\n' "$rust_needed" "$cargo_version" | sort -V | head -n1)" != "$rust_needed" ]]; then
  echo "$(command -v cargo) is $cargo_version; the native QUIC library needs Rust $rust_needed or newer (rustup update stable)." >&2
  exit 1
fi
step "Rust: $(command -v cargo) $cargo_version (needed: $rust_needed or newer)"

step "Build (Release, warnings are errors)"
build_log=$(mktemp)
dotnet build Mesh.Sdk.sln -c Release -nologo 2>&1 | tee "$build_log"
if ! grep -q ' 0 Warning(s)' "$build_log"; then
  echo "The build printed warnings." >&2
  exit 1
fi

step "Native QUIC library tests (cargo test: the C ABI; transfers through the driver: datagram size, flow control, paused reads)"
(cd src/Mesh.Transport.Quic/native && cargo test --release --locked --offline --config obj/cargo-config.toml)

step "Unit, integration and generator tests"
test_log=$(mktemp)
if ! dotnet test Mesh.Sdk.sln -c Release --no-build --nologo --logger "console;verbosity=normal" 2>&1 | tee "$test_log"; then
  # The test projects run side by side, so a failure scrolls far up; repeat each one, with its message, at the end.
  step "Failed tests"
  grep -E -A 30 '^\s+Failed [A-Za-z]' "$test_log" | grep -v -E '^\s+Passed ' || echo "(no failed test reported: see the log above)"
  exit 1
fi

step "Benchmark runner (--smoke)"
dotnet run --project tests/Mesh.Benchmarks -c Release --no-build -- --smoke

if ! $quick; then
  step "Packed package: dotnet pack, then a console app outside the repo that references only Mesh.Sdk"
  bash tests/Mesh.Package.Tests/run.sh

  step "Native AOT: samples/Counter publishes with zero warnings and the native binary runs"
  bash tests/Mesh.Aot.Tests/run.sh
fi

step "All tests passed"
