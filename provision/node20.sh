#!/usr/bin/env bash
# Installs Node.js 20 from NodeSource's apt repository when `node` is missing or older than 20
# (Debian 12's own nodejs is 18). Vagrant runs it before provision/install.sh; on other machines,
# install Node 20 any way you like (install.sh says how when it is missing). Needs internet access
# to deb.nodesource.com. Idempotent: does nothing when Node >= 20 is there.

set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

die() {
  echo "node20.sh: ERROR: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root"

if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then
  echo "node20.sh: node present ($(node --version))"
  exit 0
fi

APT_OPTS=(-q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
KEYRING=/usr/share/keyrings/nodesource.gpg

apt-get "${APT_OPTS[@]}" update >/dev/null </dev/null || die "apt-get update failed"
apt-get "${APT_OPTS[@]}" install --no-install-recommends ca-certificates curl gnupg >/dev/null </dev/null ||
  die "could not install ca-certificates curl gnupg"

curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o "$KEYRING" ||
  die "could not fetch NodeSource's signing key from deb.nodesource.com"
cat >/etc/apt/sources.list.d/nodesource.sources <<EOF
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
Signed-By: $KEYRING
EOF
# Prefer NodeSource's nodejs over Debian's, whatever their version numbers say.
cat >/etc/apt/preferences.d/nodejs <<'EOF'
Package: nodejs
Pin: origin deb.nodesource.com
Pin-Priority: 600
EOF

apt-get "${APT_OPTS[@]}" update >/dev/null </dev/null || die "apt-get update failed (NodeSource repository)"
apt-get "${APT_OPTS[@]}" install --no-install-recommends nodejs >/dev/null </dev/null || die "could not install nodejs from NodeSource"
echo "node20.sh: node installed ($(node --version), npm $(npm --version))"
