#!/usr/bin/env bash
# install-deps.sh: idempotent set-up of every build and test dependency on
# Debian bookworm, plus qemu-img 10.0 unpacked into a project-local prefix.
# The system's apt sources are left exactly as they were: backports is reached
# through a private apt configuration under the prefix.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix="${INSTAR_QEMU_PREFIX:-$top/.deps/qemu-10.0}"
# Debian revision of backports moves; the upstream version is checked below.
qemu10_release="${INSTAR_QEMU10_RELEASE:-bookworm-backports}"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

packages=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libre2-dev libzstd-dev zlib1g-dev libseccomp-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev lld-14 clang-format-14 afl++
  qemu-utils libaio1 liburing2 python3 zip unzip bc
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# qemu-img 10.0 from bookworm-backports, unpacked privately (never installed).
if [ ! -x "$prefix/usr/bin/qemu-img" ]; then
  work="$prefix.apt"
  rm -rf "$work"
  mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/etc"
  # Reuse the archive URI the system already uses for bookworm.
  uri=$( (sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null;
          sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null) |
        tr ' ' '\n' | grep -E '^https?://' | grep -v -- '-security' | head -n1 || true)
  uri="${uri:-http://deb.debian.org/debian}"
  echo "deb $uri bookworm-backports main" >"$work/etc/sources.list"
  aptopts=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
           -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
           -o "Dir::Cache::pkgcache=$work/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$work/srcpkgcache.bin"
           -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  "${sudo_cmd[@]}" apt-get "${aptopts[@]}" update -qq
  (cd "$work/archives" && apt-get "${aptopts[@]}" download "qemu-utils/$qemu10_release")
  deb=$(ls "$work"/archives/qemu-utils_*.deb | head -n1)
  mkdir -p "$prefix"
  dpkg-deb -x "$deb" "$prefix"
  rm -rf "$work"
fi
"$prefix/usr/bin/qemu-img" --version | head -n1
qemu-img --version | head -n1
case "$("$prefix/usr/bin/qemu-img" --version | head -n1)" in
  "qemu-img version 10.0."*) ;;
  *) echo "install-deps: $prefix/usr/bin/qemu-img is not qemu-img 10.0" >&2; exit 1 ;;
esac
