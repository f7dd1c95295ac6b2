#!/usr/bin/env bash
# Sets the machine up to run vowel-analytics as a service on the production interface
# (mariadb-redis). What Vagrant runs after provision/install.sh; needs systemd, so a VM, not a
# container.
#
#   sudo bash provision/service.sh
#
#   - enables and starts the system MariaDB and Redis (both on loopback only, Debian's default),
#     and sets Redis up as the production interface needs it: never evicting a key
#     (maxmemory-policy noeviction, checked by the server at start) and an append-only file
#     fsynced every second, so a restart reloads nearly every aggregate instead of rebuilding;
#   - creates the MariaDB database `og` and the user og/og (the original exercise's);
#   - copies the app from APP_SRC (default: this checkout, or /vagrant) to /opt/vowel-analytics
#     and runs `npm ci` there when the lockfile or Node changed (production dependencies only:
#     no dev tools, and not the optional better-sqlite3, which only the sqlite interface uses);
#   - installs, enables and (re)starts vowel-analytics.service (provision/vowel-analytics.service)
#     and waits until it answers on port 5000.
#
# Idempotent: running it again brings the copy up to date and restarts the service.

set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

APP_DIR=/opt/vowel-analytics
APP_USER=vowel-analytics
STATE_DIR=/var/lib/vowel-analytics
UNIT=vowel-analytics.service
PORT=5000

die() {
  echo "service.sh: ERROR: $*" >&2
  exit 1
}
step() { echo "service.sh: $*"; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash provision/service.sh)"
[ -d /run/systemd/system ] || die "systemd is not running here (a container?): this script sets up system services for the Vagrant VM"
for cmd in node npm mariadb mariadb-admin redis-cli; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found: run provision/install.sh first"
done

# Where the checkout is: the folder above this script when it is one (bash provision/service.sh),
# else /vagrant (Vagrant uploads the script to /tmp before running it).
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${APP_SRC:-}" ]; then
  if [ -f "$script_dir/../package.json" ]; then APP_SRC=$(cd "$script_dir/.." && pwd); else APP_SRC=/vagrant; fi
fi
if [ ! -f "$APP_SRC/package.json" ] || [ ! -f "$APP_SRC/package-lock.json" ]; then
  die "no package.json + package-lock.json in $APP_SRC: set APP_SRC to the checkout"
fi
UNIT_SRC="$APP_SRC/provision/$UNIT"
[ -f "$UNIT_SRC" ] || die "$UNIT_SRC is missing"

# ----------------------------------------------------------------------------------------------
# MariaDB and Redis

step "enabling and starting mariadb and redis-server"
systemctl enable --now --quiet mariadb.service redis-server.service ||
  die "could not start mariadb/redis-server: see journalctl -u mariadb -u redis-server"

for _ in $(seq 60); do
  mariadb-admin --protocol=socket ping >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break
  sleep 1
done
mariadb-admin --protocol=socket ping >/dev/null 2>&1 || die "MariaDB does not answer: see journalctl -u mariadb"
redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG || die "Redis does not answer on 127.0.0.1:6379: see journalctl -u redis-server"

step "configuring Redis: maxmemory-policy noeviction, appendonly yes, appendfsync everysec"
redis_ok() { redis-cli -h 127.0.0.1 -p 6379 "$@" 2>&1 | grep -qx OK; }
# CONFIG REWRITE keeps the settings in Debian's /etc/redis/redis.conf across restarts.
redis_ok CONFIG SET maxmemory-policy noeviction &&
  redis_ok CONFIG SET appendonly yes &&
  redis_ok CONFIG SET appendfsync everysec &&
  redis_ok CONFIG REWRITE ||
  die "could not configure Redis (redis-cli CONFIG SET / CONFIG REWRITE): see journalctl -u redis-server"

step "creating the MariaDB database og and the user og"
# root logs in through the socket (unix_socket authentication, Debian's default).
mariadb --protocol=socket --user=root <<'SQL'
CREATE DATABASE IF NOT EXISTS og CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE USER IF NOT EXISTS 'og'@'localhost' IDENTIFIED BY 'og';
CREATE USER IF NOT EXISTS 'og'@'127.0.0.1' IDENTIFIED BY 'og';
CREATE USER IF NOT EXISTS 'og'@'::1' IDENTIFIED BY 'og';
ALTER USER 'og'@'localhost' IDENTIFIED BY 'og';
ALTER USER 'og'@'127.0.0.1' IDENTIFIED BY 'og';
ALTER USER 'og'@'::1' IDENTIFIED BY 'og';
GRANT ALL PRIVILEGES ON og.* TO 'og'@'localhost';
GRANT ALL PRIVILEGES ON og.* TO 'og'@'127.0.0.1';
GRANT ALL PRIVILEGES ON og.* TO 'og'@'::1';
SQL
mariadb --host=127.0.0.1 --port=3306 --user=og --password=og og -e 'SELECT 1' >/dev/null ||
  die "cannot log in as og/og over TCP to 127.0.0.1:3306"

# ----------------------------------------------------------------------------------------------
# The app

if ! id "$APP_USER" >/dev/null 2>&1; then
  step "creating the system user $APP_USER"
  useradd --system --home-dir "$STATE_DIR" --shell /usr/sbin/nologin --user-group "$APP_USER"
fi
install -d -o "$APP_USER" -g "$APP_USER" -m 750 "$STATE_DIR"

step "copying $APP_SRC to $APP_DIR"
if ! command -v rsync >/dev/null 2>&1; then
  apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends rsync </dev/null >/dev/null ||
    die "could not install rsync"
fi
install -d -m 755 "$APP_DIR"
# node_modules are built here for this machine; data and results stay with the checkout.
rsync -a --delete \
  --exclude=/.git/ --exclude=/node_modules/ --exclude=/data/ --exclude=/bench/results/ \
  --exclude=/coverage/ --exclude=/.vagrant/ --exclude=/.npm-ci-stamp \
  "$APP_SRC/" "$APP_DIR/"

stamp="$(sha256sum "$APP_DIR/package-lock.json" | cut -d' ' -f1) node-$(node --version)"
if [ ! -d "$APP_DIR/node_modules" ] || [ "$(cat "$APP_DIR/.npm-ci-stamp" 2>/dev/null || true)" != "$stamp" ]; then
  step "npm ci (production dependencies, no optional ones) in $APP_DIR"
  (cd "$APP_DIR" && npm ci --omit=dev --omit=optional --no-audit --no-fund --loglevel=error </dev/null) ||
    die "npm ci failed in $APP_DIR"
  echo "$stamp" >"$APP_DIR/.npm-ci-stamp"
else
  step "dependencies up to date in $APP_DIR"
fi

# ----------------------------------------------------------------------------------------------
# The service

if ! cmp -s "$UNIT_SRC" "/etc/systemd/system/$UNIT"; then
  step "installing /etc/systemd/system/$UNIT"
  install -m 644 "$UNIT_SRC" "/etc/systemd/system/$UNIT"
  systemctl daemon-reload
fi
systemctl enable --quiet "$UNIT"
step "restarting $UNIT"
systemctl restart "$UNIT"

for _ in $(seq 90); do
  if node -e "fetch('http://127.0.0.1:$PORT/dashboard/symbol/a').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" 2>/dev/null; then
    step "vowel-analytics answers on port $PORT (from the host: http://192.168.50.4:$PORT/ or http://localhost:$PORT/)"
    exit 0
  fi
  systemctl is-failed --quiet "$UNIT" && break
  sleep 1
done
journalctl -u "$UNIT" -n 40 --no-pager >&2 || true
die "$UNIT does not answer on port $PORT (status: systemctl status $UNIT)"
