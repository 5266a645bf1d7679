#!/bin/busybox sh
# PID 1 of the kernel lab's guest (scripts/vm.sh), from its busybox initramfs.
# Loads the modules the guest needs (the guest cannot autoload them), mounts the
# host's root read-only over 9p under a tmpfs overlay, then runs the job that
# vm.sh wrote (the job directory is the one writable share) in it, writes the
# job's exit status and resets the machine (qemu runs with -no-reboot, so it exits).
/bin/busybox mkdir -p /proc /sys /dev /usr/bin /sbin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# Module names in dependency order, one per line (vm.sh wrote it).
while read -r module; do
  insmod "/modules/$module" 2>/dev/null || echo "vm-init: insmod $module failed" >/dev/ttyS0
done </modules/order

arg() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" /proc/cmdline; }
job=$(arg vm.job)
mode=$(arg vm.mode)

mkdir -p /host /overlay /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host
mount -t tmpfs -o mode=0755 overlay /overlay
mkdir -p /overlay/upper /overlay/work
mount -t overlay -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work root /newroot
# The job directory and the optional output directory, writable, at their host paths.
mount_shares() {
  mkdir -p "/newroot$job"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 vmjob "/newroot$job"
  out=$(arg vm.out)
  if [ -n "$out" ]; then
    mkdir -p "/newroot$out"
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 vmout "/newroot$out"
  fi
}

if [ "$mode" = systemd ]; then
  mount_shares
  # systemd mounts the API file systems itself; the job runs as a unit (vm.sh wrote it).
  cp "/newroot$job/systemd/"* /newroot/etc/systemd/system/
  # systemd-tmpfiles empties /tmp at boot ("D /tmp"): the host's /tmp, and a checkout
  # below it, must stay visible, so /tmp is only created, never cleaned.
  mkdir -p /newroot/etc/tmpfiles.d
  echo 'd /tmp 1777 root root -' >/newroot/etc/tmpfiles.d/tmp.conf
  umount /proc /sys
  mount --move /dev /newroot/dev
  exec switch_root /newroot /lib/systemd/systemd --unit=vm-job.target
fi

# /tmp stays the host's (under the overlay): a checkout below it must be visible.
for fs in "proc proc /proc" "sysfs sys /sys" "devtmpfs dev /dev" "tmpfs run /run" \
  "cgroup2 cgroup /sys/fs/cgroup" "bpf bpf /sys/fs/bpf" "debugfs debugfs /sys/kernel/debug" \
  "tracefs tracefs /sys/kernel/tracing"; do
  set -- $fs
  mkdir -p "/newroot$3" 2>/dev/null
  mount -t "$1" "$2" "/newroot$3" 2>/dev/null
done
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs shm /newroot/dev/shm
chmod 1777 /newroot/tmp /newroot/dev/shm
ln -sf /proc/self/fd /newroot/dev/fd 2>/dev/null
mount_shares

stty -F /dev/ttyS1 raw -echo 2>/dev/null
# Through a pipe, so that the command's output is not a terminal (no progress redraws).
{ chroot /newroot /bin/bash "$job/job.sh" </dev/null 2>&1; echo "$?" >"/newroot$job/status"; } | cat >/dev/ttyS1
sync
reboot -f
