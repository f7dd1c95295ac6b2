#!/usr/bin/env bash
# Installs what this project needs on Debian 12, and only what is missing:
#   Node.js 24 LTS (provision/node.sh), MariaDB server + client, Redis server + redis-cli, Chromium
#   (browser tests), python3/make/g++ (to build the sqlite addon when no prebuilt binary can be fetched),
#   qemu, debootstrap, ssh and rsync (`npm run test:vm` builds and boots a Debian VM), iproute2,
#   iptables, galera-4, stunnel4 and tcpdump (`npm run test:hosts`: test hosts in network namespaces,
#   MariaDB Galera with TLS state transfers, a capture of what crosses the test network),
#   faketime (libfaketime: the fault tests step a server's wall clock), Java 17 and Maven with the
#   Elasticsearch node's artifacts from Maven Central (elasticsearch/search-node.sh --prepare).
#
#   sudo bash provision/install.sh             # development and CI: everything above
#   sudo bash provision/install.sh --service   # a machine that only runs the service (the Vagrant
#                                              # VM): Node, MariaDB, Redis; no Chromium, no compiler
#
# Idempotent: when everything is present it only checks (no apt-get update) and takes a second or
# two. Runs unattended (CI=true, no TTY, no stdin). Prints one line per component and exits non-zero
# with a message that says what to do when something cannot be installed.
#
# It does not start MariaDB or Redis: the tests start their own throwaway servers, and
# provision/service.sh sets up the system services for the Vagrant VM.

set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

NODE_MAJOR_MIN=24

service_only=0
case "${1:-}" in
  '') ;;
  --service) service_only=1 ;;
  *)
    echo "install.sh: ERROR: unknown argument $1 (usage: install.sh [--service])" >&2
    exit 2
    ;;
esac

die() {
  echo "install.sh: ERROR: $*" >&2
  exit 1
}

line() { printf '%-12s %s\n' "$1" "$2"; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash provision/install.sh)"
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  die "apt-get not found: this script supports Debian 12 (bookworm) only"
fi

if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
    echo "install.sh: warning: made for Debian 12, this is ${PRETTY_NAME:-unknown}; trying anyway" >&2
  fi
fi

# Binaries may live in sbin folders a non-login root shell does not have on its PATH; node.sh may
# link Node into /usr/local/bin, ahead of an older system one.
export PATH="/usr/local/bin:$PATH:/usr/local/sbin:/usr/sbin:/sbin"

have() { command -v "$1" >/dev/null 2>&1; }

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# ----------------------------------------------------------------------------------------------
# What is there, what is missing

declare -a missing_pkgs=()
declare -A state=() # component -> "present" | "missing"

check() { # component, then the commands that must all exist
  local component=$1
  shift
  local cmd
  for cmd in "$@"; do
    if ! have "$cmd"; then
      state[$component]=missing
      return
    fi
  done
  state[$component]=present
}

GALERA_PROVIDER=/usr/lib/galera/libgalera_smm.so

node_ok() { have node && [ "$(node_major)" -ge "$NODE_MAJOR_MIN" ]; }

if node_ok; then state[node]=present; else state[node]=missing; fi
# Node 24 and npm's nodedir (the headers native addons build against); idempotent.
# node.sh is beside this script in a checkout; Vagrant uploads this script alone to /tmp, and the
# checkout is at /vagrant.
node_sh="$(dirname "${BASH_SOURCE[0]}")/node.sh"
[ -f "$node_sh" ] || node_sh=/vagrant/provision/node.sh
[ -f "$node_sh" ] || die "provision/node.sh not found beside this script nor in /vagrant: run this script from the checkout"
bash "$node_sh" || die "provision/node.sh could not install Node.js $NODE_MAJOR_MIN"
hash -r
check mariadb mariadbd mariadb-install-db mariadb
check redis redis-server redis-cli
if [ "$service_only" = 1 ]; then
  # The service runs mariadb-redis: no browser tests, and better-sqlite3 (optional) is not built.
  state[chromium]=skipped
  state[build-tools]=skipped
  state[vm-tools]=skipped
  state[host-tools]=skipped
  state[fault-tools]=skipped
  state[search-node]=skipped
else
  check chromium chromium
  check build-tools python3 make g++
  check vm-tools qemu-system-x86_64 debootstrap ssh ssh-keygen rsync
  check host-tools ip tc iptables rsync stunnel tcpdump
  [ -f "$GALERA_PROVIDER" ] || state[host-tools]=missing
  check fault-tools faketime
  check search-node java javac mvn
fi

[ "${state[mariadb]}" = missing ] && missing_pkgs+=(mariadb-server mariadb-client)
[ "${state[redis]}" = missing ] && missing_pkgs+=(redis-server redis-tools)
[ "${state[chromium]}" = missing ] && missing_pkgs+=(chromium)
[ "${state[vm-tools]}" = missing ] && missing_pkgs+=(qemu-system-x86 debootstrap openssh-client rsync)
[ "${state[host-tools]}" = missing ] && missing_pkgs+=(iproute2 iptables galera-4 rsync stunnel4 tcpdump)
[ "${state[fault-tools]}" = missing ] && missing_pkgs+=(faketime)
[ "${state[search-node]}" = missing ] && missing_pkgs+=(openjdk-17-jdk-headless maven)
if [ "${state[build-tools]}" = missing ]; then
  have python3 || missing_pkgs+=(python3)
  have make || missing_pkgs+=(make)
  have g++ || missing_pkgs+=(g++)
fi

# ----------------------------------------------------------------------------------------------
# apt, only when something must be installed

APT_LOG=$(mktemp /tmp/provision-apt.XXXXXX.log)
POLICY_RC=/usr/sbin/policy-rc.d
policy_rc_created=0

cleanup() {
  # Only remove the policy-rc.d this script created.
  if [ "$policy_rc_created" = 1 ]; then rm -f "$POLICY_RC"; fi
  rm -f "$APT_LOG"
}
trap cleanup EXIT

apt_fail() {
  echo "install.sh: ERROR: $1; the last lines of apt's output:" >&2
  tail -n 25 "$APT_LOG" >&2 || true
  exit 1
}

APT_OPTS=(-q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

updated=0
apt_update() {
  [ "$updated" = 1 ] && return
  apt-get "${APT_OPTS[@]}" update </dev/null >>"$APT_LOG" 2>&1 ||
    apt_fail "apt-get update failed (are Debian's repositories reachable?)"
  updated=1
}

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  # Keep package scripts from starting MariaDB/Redis: nothing here needs them running, and in a
  # container without an init system starting them fails. (Units stay enabled where systemd runs.)
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    policy_rc_created=1
  fi
  apt_update
  apt-get "${APT_OPTS[@]}" install --no-install-recommends "${missing_pkgs[@]}" </dev/null >>"$APT_LOG" 2>&1 ||
    apt_fail "apt-get install ${missing_pkgs[*]} failed"
fi

# ----------------------------------------------------------------------------------------------
# Report, and verify what was installed

report() { # component, version
  local how=present
  [ "${state[$1]}" = missing ] && how=installed
  line "$1" "$how ($2)"
}

errors=()
missing() { # component, message
  line "$1" MISSING
  errors+=("$2")
}

if node_ok; then
  npm_version=$(npm --version 2>/dev/null || true)
  report node "$(node --version)${npm_version:+, npm $npm_version}, addons built against $(npm config get nodedir)"
  [ -n "$npm_version" ] ||
    errors+=("npm is missing: Node.js from NodeSource or nodejs.org ships it (Debian's npm package would pull in Node 18)")
else
  missing node "nodejs was installed but node is still older than $NODE_MAJOR_MIN ($(node --version 2>/dev/null || echo none))"
fi

if have mariadbd && have mariadb-install-db && have mariadb; then
  report mariadb "$(mariadbd --version 2>/dev/null | sed -nE 's/.*Ver ([^ ]+).*/\1/p')"
else
  missing mariadb "mariadbd, mariadb-install-db or mariadb still missing after installing mariadb-server mariadb-client"
fi

if have redis-server && have redis-cli; then
  report redis "$(redis-server --version 2>/dev/null | sed -nE 's/.* v=([^ ]+).*/\1/p')"
else
  missing redis "redis-server or redis-cli still missing after installing redis-server redis-tools"
fi

if [ "$service_only" = 1 ]; then
  line chromium "not needed (--service)"
  line build-tools "not needed (--service)"
  line vm-tools "not needed (--service)"
  line host-tools "not needed (--service)"
  line fault-tools "not needed (--service)"
  line search-node "not needed (--service)"
else
  if have chromium; then
    report chromium "$(pkg_version chromium | grep . || echo 'not from a Debian package')"
  else
    missing chromium "chromium still missing after installing chromium"
  fi
  if have python3 && have make && have g++; then
    report build-tools "python3 $(python3 -c 'import platform; print(platform.python_version())'), make $(make --version | sed -nE '1s/.* ([0-9.]+)$/\1/p'), g++ $(g++ -dumpfullversion 2>/dev/null || g++ -dumpversion)"
  else
    missing build-tools "python3, make or g++ still missing after installing them"
  fi
  if have qemu-system-x86_64 && have debootstrap && have ssh && have ssh-keygen && have rsync; then
    report vm-tools "$(qemu-system-x86_64 --version | sed -nE '1s/.*version ([^ ]+).*/qemu \1/p'), debootstrap $(pkg_version debootstrap)"
  else
    missing vm-tools "qemu-system-x86_64, debootstrap, ssh or rsync still missing after installing qemu-system-x86 debootstrap openssh-client rsync"
  fi
  if have ip && have tc && have iptables && have rsync && have stunnel && have tcpdump && [ -f "$GALERA_PROVIDER" ]; then
    report host-tools "$(ip -V | sed -nE 's/.*iproute2-([^ ,]+).*/iproute2 \1/p'), $(iptables --version | sed -nE 's/^iptables (v[^ ]+).*/iptables \1/p'), galera-4 $(pkg_version galera-4), stunnel4 $(pkg_version stunnel4), tcpdump $(pkg_version tcpdump)"
  else
    missing host-tools "ip, tc, iptables, rsync, stunnel, tcpdump or $GALERA_PROVIDER still missing after installing iproute2 iptables galera-4 rsync stunnel4 tcpdump"
  fi
  if have faketime; then
    report fault-tools "faketime $(pkg_version faketime)"
  else
    missing fault-tools "faketime still missing after installing faketime"
  fi
  # The Elasticsearch node's jars from Maven Central, compiled once (a second or two when they are there).
  search_node_sh="$(dirname "${BASH_SOURCE[0]}")/../elasticsearch/search-node.sh"
  if ! have java || ! have mvn; then
    missing search-node "java or mvn still missing after installing openjdk-17-jdk-headless maven"
  elif [ ! -f "$search_node_sh" ]; then
    line search-node "skipped (no checkout beside this script)"
  elif bash "$search_node_sh" --prepare >>"$APT_LOG" 2>&1; then
    report search-node "$(java -version 2>&1 | sed -nE '1s/.*version "([^"]+)".*/java \1/p'), Elasticsearch 7.10.2 resolved"
  else
    tail -n 25 "$APT_LOG" >&2
    missing search-node "elasticsearch/search-node.sh --prepare failed: Maven could not resolve or compile the node (is Maven Central reachable?)"
  fi
fi

if [ "${#errors[@]}" -gt 0 ]; then
  for error in "${errors[@]}"; do echo "install.sh: ERROR: $error" >&2; done
  exit 1
fi
