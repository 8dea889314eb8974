#!/usr/bin/env bash
# Vendors the Rust crates the native QUIC library needs from Debian's unstable suite (sid), without
# the Rust registry and without installing anything into the system:
#   1. a private apt configuration (own sources list, lists, cache and an empty dpkg status) that
#      points at the Debian mirror this machine already uses, with suite `sid`, component `main`;
#   2. `apt-cache depends --recurse` of the root packages, keeping the `librust-*` names and mapping
#      virtual feature packages (`librust-foo+bar-dev`) to the real packages that provide them;
#   3. `apt-get download` into a cache folder (only what is not there yet), `dpkg-deb -x` into a
#      vendor folder, and a cargo configuration that replaces crates-io with that folder, offline.
#
# Idempotent: a second run with the same inputs downloads nothing and exits at once.
#
#   vendor-crates.sh [--out DIR]     default DIR: <native>/obj
#
# Environment:
#   MESH_DEBIAN_MIRROR   mirror URI to use instead of the one read from /etc/apt
#   MESH_CRATE_CACHE     folder for downloaded .deb files (default DIR/debs); share it between clones
#   MESH_VENDOR_REFRESH  set to 1 to run `apt-get update` again even when the lists exist
#
# Output: DIR/vendor/usr/share/cargo/registry (the crates) and DIR/cargo-config.toml, to be passed
# to cargo as `--config DIR/cargo-config.toml`.
set -euo pipefail

native_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$native_dir/obj"
if [[ "${1:-}" == "--out" && -n "${2:-}" ]]; then out=$2; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Roots of the dependency closure: the crates Cargo.toml names directly.
roots=(librust-quinn-proto-dev librust-quinn-udp-dev librust-rustls-dev librust-bytes-dev librust-libc-dev librust-rcgen-dev)
suite=sid

apt_dir="$out/apt"
debs="${MESH_CRATE_CACHE:-$out/debs}"
vendor="$out/vendor"
registry="$vendor/usr/share/cargo/registry"
config="$out/cargo-config.toml"
stamp="$out/vendor.stamp"

log() { printf 'vendor-crates: %s\n' "$*" >&2; }

# The stamp records the inputs the vendor folder was made from; equal inputs mean nothing to do.
script_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
wanted_stamp="$script_hash ${roots[*]} $suite $registry"
if [[ -f "$stamp" && -f "$config" && -d "$registry" && "$(cat "$stamp")" == "$wanted_stamp" ]]; then
  log "up to date ($registry)"
  exit 0
fi

# --- 1. private apt configuration -------------------------------------------------------------
find_mirror() {
  if [[ -n "${MESH_DEBIAN_MIRROR:-}" ]]; then printf '%s\n' "$MESH_DEBIAN_MIRROR"; return; fi
  local f uri
  # One-line format: "deb [options] URI suite components...".
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }' "$f" |
      grep -E '/debian/?$' | head -n1 || true)
    if [[ -n "$uri" ]]; then printf '%s\n' "$uri"; return; fi
  done
  # deb822 format: "URIs:" fields of stanzas whose type is deb.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" | grep -E '/debian/?$' | head -n1 || true)
    if [[ -n "$uri" ]]; then printf '%s\n' "$uri"; return; fi
  done
  return 1
}
mirror=$(find_mirror) || { log "no Debian mirror found in /etc/apt (set MESH_DEBIAN_MIRROR)"; exit 1; }
mirror=${mirror%/}

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed_by=""
[[ -f "$keyring" ]] && signed_by="[signed-by=$keyring] "

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/sources.list.d" \
  "$apt_dir/etc/preferences.d" "$apt_dir/etc/apt.conf.d" "$debs" "$registry"
printf 'deb %s%s %s main\n' "$signed_by" "$mirror" "$suite" >"$apt_dir/etc/sources.list"
: >"$apt_dir/status"

apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/etc/sources.list.d"
  -o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
  -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::archives=$apt_dir/cache/archives"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures::=amd64"
  -o "Acquire::Languages=none"
  -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false"
  -o "APT::Get::List-Cleanup=false"
  # Private folders are owned by the calling user; downloading as that user keeps them writable.
  -o "APT::Sandbox::User=$(id -un)"
)

if [[ "${MESH_VENDOR_REFRESH:-0}" == 1 ]] || ! compgen -G "$apt_dir/lists/*_Packages*" >/dev/null; then
  log "apt-get update ($mirror $suite main, private state in $apt_dir)"
  apt-get "${apt_opts[@]}" -qq update
fi

# --- 2. dependency closure ---------------------------------------------------------------------
# Every package apt can name in the closure; virtual ones come out as <name>.
closure=$(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${roots[@]}" |
  sed -E 's/^[ |]*(PreDepends:|Depends:)?[ ]*//; s/[<>]//g' | grep -E '^librust-' | sort -u)

# Real package names of sid and, for each virtual feature package, the real package providing it.
provides=$(apt-cache "${apt_opts[@]}" dumpavail |
  awk '
    /^Package: / { pkg = $2 }
    /^Provides: / {
      sub(/^Provides: /, "")
      n = split($0, parts, /, */)
      for (i = 1; i <= n; i++) { split(parts[i], w, " "); if (w[1] ~ /^librust-/) print w[1], pkg }
    }
    /^Package: librust-/ { print $2, $2 }')

declare -A real_of=()
while read -r virt real; do
  # A real package maps to itself; keep that over any provider.
  if [[ "$virt" == "$real" || -z "${real_of[$virt]:-}" ]]; then real_of[$virt]=$real; fi
done <<<"$provides"

declare -A wanted=()
unresolved=()
while read -r name; do
  [[ -n "$name" ]] || continue
  if [[ -n "${real_of[$name]:-}" ]]; then wanted[${real_of[$name]}]=1; else unresolved+=("$name"); fi
done <<<"$closure"
if ((${#unresolved[@]})); then log "no package provides: ${unresolved[*]} (skipped)"; fi
mapfile -t packages < <(printf '%s\n' "${!wanted[@]}" | sort)
log "${#packages[@]} packages in the closure of ${roots[*]}"

# --- 3. download what the cache lacks, extract, configure cargo --------------------------------
# The exact file names apt would download: Package_Version_Arch.deb with the epoch's ':' as %3a.
declare -A file_of=()
while read -r pkg ver arch; do
  file_of[$pkg]="${pkg}_${ver/:/%3a}_${arch}.deb"
done < <(apt-cache "${apt_opts[@]}" show --no-all-versions "${packages[@]}" 2>/dev/null |
  awk '/^Package: /{p=$2} /^Version: /{v=$2} /^Architecture: /{a=$2} /^$/{ if (p != "") print p, v, a; p="" } END { if (p != "") print p, v, a }')

missing=()
for p in "${packages[@]}"; do
  [[ -f "$debs/${file_of[$p]:-none}" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  log "downloading ${#missing[@]} packages into $debs"
  (cd "$debs" && apt-get "${apt_opts[@]}" -qq download "${missing[@]}")
else
  log "all packages already in $debs"
fi

rm -rf "$vendor"
mkdir -p "$vendor"
for p in "${packages[@]}"; do
  dpkg-deb -x "$debs/${file_of[$p]}" "$vendor"
done

# A directory source needs .cargo-checksum.json in every crate. Debian ships one with an empty
# "files" map and, as "package", the sha256 of the published .crate, or for many crates the text
# "Could not get crate checksum". Cargo copies "package" into Cargo.lock, so anything that is not
# a sha256 becomes null (no checksum) rather than a bogus one; a missing file is written the same way.
count=0
for crate in "$registry"/*/; do
  [[ -f "$crate/Cargo.toml" ]] || continue
  sum="$crate/.cargo-checksum.json"
  if [[ ! -f "$sum" ]] || ! grep -Eq '"package":"[0-9a-f]{64}"' "$sum"; then
    printf '{"files":{},"package":null}\n' >"$sum"
  fi
  count=$((count + 1))
done

cat >"$config" <<CONFIG
# Written by vendor-crates.sh: build from the crates Debian packages, never from the network.
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "$registry"

[net]
offline = true
CONFIG

printf '%s' "$wanted_stamp" >"$stamp"
log "$count crates in $registry; cargo config: $config"
