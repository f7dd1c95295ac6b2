#!/usr/bin/env bash
# Sets the machine up to run vowel-analytics as a service on the production interface
# (mariadb-redis). What Vagrant runs after provision/install.sh; needs systemd, so a VM, not a
# container.
#
#   sudo bash provision/service.sh
#   sudo bash provision/service.sh --rotate mariadb --rotate redis   # new passwords for those
#
#   - enables and starts the system MariaDB and Redis (both on loopback only, Debian's default),
#     and sets Redis up as the production interface needs it: never evicting a key
#     (maxmemory-policy noeviction, checked by the server at start) and an append-only file
#     fsynced every second, so a restart reloads nearly every aggregate instead of rebuilding;
#   - makes the secrets on its first run, random, and keeps them on later runs (in
#     /etc/vowel-analytics/secrets, root's alone): the passwords of MariaDB's `og` and of Redis's
#     ACL users `og` (the service) and `admin` (this script, and operators); the service's URLs
#     with them go to /etc/vowel-analytics/service.env (root and the service's group may read it),
#     which the unit reads (EnvironmentFile=): no password is on a command line or in a log.
#     `--rotate mariadb|redis|redis-admin` (repeatable) makes that one anew (README: rotation);
#   - least privilege: creates the MariaDB database `og` and the user `og`, with only
#     provision/mariadb-privileges.txt on it; Redis's user `og` may run only the commands of
#     provision/redis-acl.txt on keys og:*, and the `default` user (no password) is turned off;
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

declare -A rotate=()
while [ $# -gt 0 ]; do
  case "$1:${2:-}" in
    --rotate:mariadb) rotate[MARIADB_PASSWORD]=1 ;;
    --rotate:redis) rotate[REDIS_PASSWORD]=1 ;;
    --rotate:redis-admin) rotate[REDIS_ADMIN_PASSWORD]=1 ;;
    *) die "unknown argument $1 ${2:-} (usage: service.sh [--rotate mariadb|redis|redis-admin]...)" ;;
  esac
  shift 2
done

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

# The secrets: NAME=value lines, root's alone. A missing one (the first run) or one to rotate is made.
CONF_DIR=/etc/vowel-analytics
SECRETS=$CONF_DIR/secrets
SERVICE_ENV=$CONF_DIR/service.env
install -d -o root -g root -m 755 "$CONF_DIR"
[ -f "$SECRETS" ] || install -o root -g root -m 600 /dev/null "$SECRETS"
chmod 600 "$SECRETS"
secret_of() { sed -n "s/^$1=//p" "$SECRETS" | tail -n 1; }
new_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
# The admin password this script logs in to Redis with: the one before a rotation, kept in the file
# (…_BEFORE) until Redis has the new one, so that a run that stops halfway can be run again.
redis_admin_before=$(secret_of REDIS_ADMIN_PASSWORD_BEFORE)
[ -n "$redis_admin_before" ] || redis_admin_before=$(secret_of REDIS_ADMIN_PASSWORD)
secrets_new=$(mktemp "$CONF_DIR/.secrets.XXXXXX")
for name in MARIADB_PASSWORD REDIS_PASSWORD REDIS_ADMIN_PASSWORD; do
  value=$(secret_of "$name")
  if [ -z "$value" ] || [ -n "${rotate[$name]:-}" ]; then
    step "making the secret $name"
    value=$(new_secret)
  fi
  echo "$name=$value" >>"$secrets_new"
done
if [ -n "$redis_admin_before" ] && ! grep -qx "REDIS_ADMIN_PASSWORD=$redis_admin_before" "$secrets_new"; then
  echo "REDIS_ADMIN_PASSWORD_BEFORE=$redis_admin_before" >>"$secrets_new"
fi
mv -f "$secrets_new" "$SECRETS"
mariadb_password=$(secret_of MARIADB_PASSWORD)
redis_password=$(secret_of REDIS_PASSWORD)
redis_admin_password=$(secret_of REDIS_ADMIN_PASSWORD)

# redis-cli as admin, its password in the environment (REDISCLI_AUTH), not on its command line;
# commands with a password go on its standard input.
rcli() { REDISCLI_AUTH=$redis_login redis-cli --no-auth-warning --user "$redis_user" -h 127.0.0.1 -p 6379 "$@"; }
redis_user=admin
redis_login=$redis_admin_password
redis_as() { # user password: PONG when they log in
  REDISCLI_AUTH=$2 redis-cli --no-auth-warning --user "$1" -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -qx PONG
}

for _ in $(seq 60); do
  mariadb-admin --protocol=socket ping >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
  sleep 1
done
mariadb-admin --protocol=socket ping >/dev/null 2>&1 || die "MariaDB does not answer: see journalctl -u mariadb"

# Who this script is to Redis: admin (a later run), admin with the password before a rotation, or,
# on the first run, the default user (no password) that it then turns off.
if redis_as admin "$redis_admin_password"; then
  :
elif [ -n "$redis_admin_before" ] && redis_as admin "$redis_admin_before"; then
  redis_login=$redis_admin_before
elif redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -qx PONG; then
  redis_user=default
  redis_login=
else
  die "Redis does not answer on 127.0.0.1:6379, or not to admin with the password in $SECRETS: see journalctl -u redis-server"
fi

step "configuring Redis: maxmemory-policy noeviction, appendonly yes, appendfsync everysec; ACL users og and admin, default off"
acl_rules=$(grep -v '^#' "$APP_SRC/provision/redis-acl.txt" | tr '\n' ' ')
[ -n "$acl_rules" ] || die "$APP_SRC/provision/redis-acl.txt has no rules"
redis_ok() { rcli "$@" 2>&1 | grep -qx OK; }
# CONFIG REWRITE keeps the settings and the users (their passwords as SHA-256 hashes) in Debian's
# /etc/redis/redis.conf across restarts.
redis_ok CONFIG SET maxmemory-policy noeviction &&
  redis_ok CONFIG SET appendonly yes &&
  redis_ok CONFIG SET appendfsync everysec ||
  die "could not configure Redis (redis-cli CONFIG SET): see journalctl -u redis-server"
# The passwords on standard input: redis-cli runs each line as a command.
printf '%s\n' \
  "ACL SETUSER admin reset on >$redis_admin_password ~* &* +@all" \
  "ACL SETUSER og reset $acl_rules >$redis_password" |
  rcli | grep -vx OK && die "could not set Redis's ACL users (ACL SETUSER)"
redis_user=admin
redis_login=$redis_admin_password
sed -i '/^REDIS_ADMIN_PASSWORD_BEFORE=/d' "$SECRETS"
redis_ok ACL SETUSER default reset off && redis_ok CONFIG REWRITE ||
  die "could not turn Redis's default user off, or rewrite its configuration"
redis_as og "$redis_password" || die "Redis's user og cannot log in"

step "creating the MariaDB database og and the user og"
# root logs in through the socket (unix_socket authentication, Debian's default). The statements
# (the password in them) go on standard input.
privileges=$(grep -v '^#' "$APP_SRC/provision/mariadb-privileges.txt" | tr '\n' ' ')
[ -n "$privileges" ] || die "$APP_SRC/provision/mariadb-privileges.txt has no privileges"
{
  echo "CREATE DATABASE IF NOT EXISTS og CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
  for host in localhost 127.0.0.1 ::1; do
    echo "CREATE USER IF NOT EXISTS 'og'@'$host' IDENTIFIED BY '$mariadb_password';"
    echo "ALTER USER 'og'@'$host' IDENTIFIED BY '$mariadb_password';"
    echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'og'@'$host';"
    echo "GRANT $privileges ON og.* TO 'og'@'$host';"
  done
} | mariadb --protocol=socket --user=root || die "could not create the database og and the user og"
MYSQL_PWD=$mariadb_password mariadb --host=127.0.0.1 --port=3306 --user=og og -e 'SELECT 1' >/dev/null ||
  die "cannot log in as og over TCP to 127.0.0.1:3306"

# ----------------------------------------------------------------------------------------------
# The app

if ! id "$APP_USER" >/dev/null 2>&1; then
  step "creating the system user $APP_USER"
  useradd --system --home-dir "$STATE_DIR" --shell /usr/sbin/nologin --user-group "$APP_USER"
fi
install -d -o "$APP_USER" -g "$APP_USER" -m 750 "$STATE_DIR"

step "writing $SERVICE_ENV (the service's URLs, with their passwords)"
# Written whole each run (a rotated password reaches it); readable by root and the service's group.
service_env=$(mktemp "$CONF_DIR/.service.env.XXXXXX")
chmod 640 "$service_env"
chown root:"$APP_USER" "$service_env"
printf '%s\n' "# Made by provision/service.sh from $SECRETS: rotate with service.sh --rotate." \
  "MARIADB_URL=mysql://og:$mariadb_password@127.0.0.1:3306/og" \
  "REDIS_URL=redis://og:$redis_password@127.0.0.1:6379" >"$service_env"
mv -f "$service_env" "$SERVICE_ENV"

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
