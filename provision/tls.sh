#!/usr/bin/env bash
# A deployment's certificate authority, and certificates it signs (openssl), for TLS between hosts:
# MariaDB, Galera's replication and state transfers, Redis and its cluster bus.
#
#   bash provision/tls.sh DIR                      # DIR/ca.crt and DIR/ca.key: made once, kept after
#   bash provision/tls.sh DIR NAME ADDRESS...      # and DIR/NAME.crt, DIR/NAME.key: CN=NAME, each
#                                                  # ADDRESS (an IP or a DNS name) a subjectAltName
#
# Keys are EC P-256, readable by their owner only (chown them to the server's user); certificates are
# for servers and clients both (Redis nodes and Galera nodes are both to each other), valid 825 days
# (the CA 10 years). Run again with the same NAME to renew a certificate (the key is new too).
# Keep ca.key off the servers: only ca.crt and each host's own NAME.crt and NAME.key go to a host.

set -euo pipefail
die() {
  echo "tls.sh: ERROR: $*" >&2
  exit 1
}
[ $# -ge 1 ] || die "usage: tls.sh DIR [NAME ADDRESS...]"
command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
dir=$1
shift
umask 077
mkdir -p "$dir"
if [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=vowel-analytics CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null || die "could not make the CA in $dir"
  chmod 644 "$dir/ca.crt"
fi
[ $# -ge 1 ] || exit 0
name=$1
shift
[ $# -ge 1 ] || die "a certificate for $name needs at least one address"
san=()
for address in "$@"; do
  if [[ $address =~ ^[0-9.]+$ || $address == *:* ]]; then san+=("IP:$address"); else san+=("DNS:$address"); fi
done
extensions=$(mktemp)
trap 'rm -f "$extensions" "$dir/$name.csr"' EXIT
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=$(IFS=,; echo "${san[*]}")" >"$extensions"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
  -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null || die "could not make a key for $name"
openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
  -days 825 -extfile "$extensions" -out "$dir/$name.crt" 2>/dev/null || die "could not sign the certificate of $name"
chmod 644 "$dir/$name.crt"
