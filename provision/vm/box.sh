#!/usr/bin/env bash
# Builds the stand-in for the Vagrantfile's box (debian/bookworm64) that `npm run test:vm` boots:
# a Debian 12 root file system from Debian's packages (debootstrap), in an ext4 disk image, with
# what a Vagrant box has and nothing of this project's:
#   - systemd, the kernel (booted by qemu from vmlinuz/initrd beside the image), DHCP on the NIC;
#   - the user vagrant with passwordless sudo, reached over SSH with a key made here (Vagrant's
#     own boxes carry its insecure key instead);
#   - openssh-server, sudo, rsync (the rsync synced folder needs it on both sides).
# One addition for the network it is built on: the host's own CA certificates
# (/usr/local/share/ca-certificates) and NODE_EXTRA_CA_CERTS in /etc/environment, as a box made
# for a network that intercepts TLS carries them. Without interception they change nothing.
#
#   sudo bash provision/vm/box.sh DIR
#
# DIR receives disk.img, vmlinuz, initrd.img and the SSH key id_ed25519; a complete box already
# in DIR is kept. Needs root, debootstrap and mkfs.ext4 (apt-get install debootstrap e2fsprogs).

set -euo pipefail
export LC_ALL=C

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DISK_SIZE=8G
PACKAGES=linux-image-amd64,systemd-sysv,udev,dbus,openssh-server,sudo,rsync,ca-certificates,iproute2,procps

die() {
  echo "box.sh: ERROR: $*" >&2
  exit 1
}

dir=${1:?usage: box.sh DIR}
[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap and the image's file owners need it"
export PATH="$PATH:/usr/sbin:/sbin"
for tool in debootstrap mkfs.ext4 ssh-keygen; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found: apt-get install debootstrap e2fsprogs openssh-client"
done

if [ -f "$dir/complete" ]; then
  echo "box.sh: box present in $dir"
  exit 0
fi

mkdir -p "$dir"
root=$(mktemp -d "$dir/rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$dir/debootstrap.log" 2>&1 ||
  die "debootstrap failed (is $MIRROR reachable?); the last lines of $dir/debootstrap.log: $(tail -n 5 "$dir/debootstrap.log")"

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
SOURCES
echo debian >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' >"$root/etc/fstab"
cat >"$root/etc/systemd/network/10-dhcp.network" <<'NETWORK'
[Match]
Name=en* eth*

[Network]
DHCP=yes
NETWORK
chroot "$root" systemctl enable --quiet systemd-networkd
# qemu's user network answers DNS at 10.0.2.3.
rm -f "$root/etc/resolv.conf"
echo 'nameserver 10.0.2.3' >"$root/etc/resolv.conf"

chroot "$root" useradd --create-home --shell /bin/bash vagrant
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/vagrant"
chmod 440 "$root/etc/sudoers.d/vagrant"
rm -f "$dir/id_ed25519" "$dir/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C vagrant-box -f "$dir/id_ed25519"
install -d -m 700 "$root/home/vagrant/.ssh"
install -m 600 "$dir/id_ed25519.pub" "$root/home/vagrant/.ssh/authorized_keys"
chroot "$root" chown -R vagrant:vagrant /home/vagrant/.ssh
# A login as soon as sshd runs: no reverse DNS lookups through the user network.
echo 'UseDNS no' >"$root/etc/ssh/sshd_config.d/box.conf"

if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
  echo 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' >>"$root/etc/environment"
fi

chroot "$root" apt-get clean
cp -L "$root/vmlinuz" "$dir/vmlinuz"
cp -L "$root/initrd.img" "$dir/initrd.img"
rm -f "$dir/disk.img"
mkfs.ext4 -q -F -L root -d "$root" "$dir/disk.img" "$DISK_SIZE"
touch "$dir/complete"
echo "box.sh: box built in $dir"
