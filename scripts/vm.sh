#!/usr/bin/env bash
# The kernel lab: boots Debian's own kernel packages under qemu (TCG) with the
# host's root file system read-only under a tmpfs overlay, and runs a command in
# the guest. See docs/kernels.md.
#
#   bash scripts/vm.sh kernels                      NAME RELEASE, one line per kernel
#   bash scripts/vm.sh run NAME [--systemd] [--timeout S] [--memory MiB] -- COMMAND [ARG...]
#   bash scripts/vm.sh matrix [--json FILE] [NAME...]
#   bash scripts/vm.sh fetch [NAME...]              download and prepare (kernels does it too)
#   bash scripts/vm.sh release NAME                 the release of one kernel
#
# Kernels: 6.1 (Debian 12), 6.12 (Debian 13), 7 (Debian unstable), each the newest
# linux-image-amd64 of its suites. Packages come through apt-get download with a
# private apt state, from the URIs this machine's own apt sources name.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
KERNEL_NAMES=(6.1 6.12 7)

if [ "$(id -u)" -eq 0 ]; then
  cache=${MPTCP_POLICY_LAB_CACHE:-/var/cache/mptcp-policy/lab}
else
  cache=${MPTCP_POLICY_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mptcp-policy/lab}
fi

say() { echo "vm: $*" >&2; }
die() { say "$*"; exit 2; }

# Modules the guest loads at boot (with what they depend on); built-in ones are skipped.
GUEST_MODULES=(virtio_pci virtio_console virtio_rng 9pnet_virtio 9p overlay veth dummy
  sch_netem sch_tbf sch_htb sch_prio sch_fq_codel cls_bpf act_bpf inet_diag tcp_diag
  udp_diag mptcp_diag raw_diag af_packet_diag unix_diag nf_tables nft_numgen nft_reject_inet wireguard tun bridge)

suites_of() {
  case "$1" in
    6.1) echo "main:bookworm main:bookworm-updates security:bookworm-security" ;;
    6.12) echo "main:trixie main:trixie-updates security:trixie-security" ;;
    7) echo "main:sid" ;;
    *) die "unknown kernel '$1' (known: ${KERNEL_NAMES[*]})" ;;
  esac
}

# "KIND URI SIGNED-BY" for the Debian archive and its security archive, read from
# this machine's apt sources (deb822 .sources and one-line .list files): the URIs
# whose suite is this system's codename (main) or codename-security (security).
host_archives() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "cannot tell this system's Debian codename from /etc/os-release"
  {
    for file in /etc/apt/sources.list.d/*.sources; do
      [ -f "$file" ] || continue
      awk 'BEGIN { RS = ""; FS = "\n" } {
        types = uris = suites = key = ""
        for (i = 1; i <= NF; i++) {
          line = $i; if (line ~ /^#/) continue
          split(line, kv, ":"); field = tolower(kv[1]); value = substr(line, length(kv[1]) + 2)
          gsub(/^[ \t]+|[ \t]+$/, "", value)
          if (field == "types") types = value; else if (field == "uris") uris = value
          else if (field == "suites") suites = value; else if (field == "signed-by") key = value
        }
        if (types ~ /(^| )deb( |$)/) { n = split(uris, u, " "); m = split(suites, s, " ")
          for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print s[b], u[a], key }
      }' "$file"
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$file" ] || continue
      awk '$1 == "deb" { key = ""; i = 2
        if ($2 ~ /^\[/) { while (i <= NF) { if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) }
          if ($i ~ /\]$/) { i++; break }; i++ } }
        print $(i + 1), $i, key }' "$file"
    done
  } | awk -v c="$codename" '$1 == c && !m++ { print "main", $2, $3 } $1 == c "-security" && !s++ { print "security", $2, $3 }'
}

apt_private() { # DIR apt-get|apt-cache ARGS...
  local dir=$1 tool=$2
  shift 2
  "$tool" -q -o Dir::State="$dir/state" -o Dir::State::Lists="$dir/state/lists" -o Dir::State::status=/dev/null \
    -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null \
    -o Dir::Etc::PreferencesParts=/dev/null -o Dir::Cache="$dir/cache" -o APT::Architecture=amd64 \
    -o Acquire::Languages=none "$@"
}

# The private apt state of one kernel: its sources list and package lists, refreshed once a day.
apt_state() {
  local name=$1 dir=$cache/$1/apt archives kind suite uri key entry
  mkdir -p "$dir/state/lists/partial" "$dir/cache/archives/partial"
  archives=$(host_archives)
  : >"$dir/sources.list.new"
  for entry in $(suites_of "$name"); do
    kind=${entry%%:*} suite=${entry#*:}
    uri=$(awk -v k="$kind" '$1 == k { print $2 }' <<<"$archives")
    key=$(awk -v k="$kind" '$1 == k { print $3 }' <<<"$archives")
    [ -n "$uri" ] || continue
    echo "deb ${key:+[signed-by=$key] }$uri $suite main" >>"$dir/sources.list.new"
  done
  [ -s "$dir/sources.list.new" ] || die "no Debian archive in this machine's apt sources (/etc/apt/sources.list*)"
  if ! cmp -s "$dir/sources.list.new" "$dir/sources.list" || [ -z "$(find "$dir/state/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 -print -quit)" ]; then
    mv "$dir/sources.list.new" "$dir/sources.list"
    apt_private "$dir" apt-get update >"$dir/update.log" 2>&1 || { say "apt-get update for $name failed (see $dir/update.log)"; return 1; }
  else
    rm -f "$dir/sources.list.new"
  fi
}

field_of() { awk -v f="$1:" '$1 == f { sub(/^[^:]*: */, ""); print; exit }'; }

# Downloads the newest linux-image of a kernel's suites and prepares what a boot
# needs: the uncompressed vmlinux (PVH entry) and a busybox initramfs with modules.
prepare() {
  local name=$1 dir=$cache/$1 version image release packages work stamp tool
  for tool in modprobe depmod cpio; do
    command -v "$tool" >/dev/null || die "$tool is missing (it prepares the guest's modules): run bash scripts/setup.sh"
  done
  if ! apt_state "$name"; then
    [ -f "$dir/ready" ] && { say "using the cached $name kernel"; return 0; }
    return 1
  fi
  version=$(apt_private "$dir/apt" apt-cache policy linux-image-amd64 | awk '/Candidate:/ { print $2 }')
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "no linux-image-amd64 in the suites of $name"
  stamp="$version ${GUEST_MODULES[*]}"
  if [ -f "$dir/ready" ] && [ "$(cat "$dir/ready")" = "$stamp" ]; then return 0; fi
  image=$(apt_private "$dir/apt" apt-cache show "linux-image-amd64=$version" | field_of Depends | tr ',' '\n' |
    sed -n 's/^ *\(linux-image-[^ ]*-amd64\).*/\1/p' | head -n 1)
  release=${image#linux-image-}
  # Newer kernels split the image into linux-binary-* and linux-modules-* packages.
  packages=$(apt_private "$dir/apt" apt-cache show "$image=$version" | field_of Depends | tr ',|' '\n\n' |
    awk -v r="$release" '{ n = $1 } n == "linux-binary-" r || n == "linux-modules-" r { print n }' | sort -u)
  say "fetching $image $version"
  work=$dir/work
  rm -rf "$work"
  mkdir -p "$work/debs" "$work/root"
  id _apt >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && chown _apt "$work/debs"
  (cd "$work/debs" && apt_private "$dir/apt" apt-get download "$image" $packages >"$work/download.log" 2>&1) ||
    { cat "$work/download.log" >&2; die "apt-get download of $image failed"; }
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  build_boot_files "$name" "$release" "$work"
  echo "$release" >"$dir/release"
  echo "$stamp" >"$dir/ready"
  rm -rf "$work"
}

# The uncompressed kernel from a vmlinuz: the first compressed stream that
# decompresses to an ELF file (as the kernel's scripts/extract-vmlinux does).
extract_vmlinux() {
  local vmlinuz=$1 out=$2 pattern tool offset
  for pattern in "\xfd7zXZ\x00:xz -dc --single-stream" "\x28\xb5\x2f\xfd:zstd -dcq" "\x1f\x8b\x08:gzip -dcq" "\x02\x21\x4c\x18:lz4 -dcq"; do
    tool=${pattern#*:}
    for offset in $(LC_ALL=C grep -obUaP "${pattern%%:*}" "$vmlinuz" | cut -d: -f1); do
      tail -c "+$((offset + 1))" "$vmlinuz" | $tool >"$out" 2>/dev/null || true
      [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = "177ELF" ] && return 0
    done
  done
  die "cannot extract vmlinux from $vmlinuz"
}

build_boot_files() {
  local name=$1 release=$2 work=$3 root=$3/root dir=$cache/$1 initrd=$3/modules module path base vmlinuz
  # Debian 14 moved the image beside the modules.
  vmlinuz=$(ls "$root/boot/vmlinuz-$release" "$root"/usr/lib/modules/"$release"/vmlinuz "$root"/lib/modules/"$release"/vmlinuz 2>/dev/null | head -n 1)
  [ -n "$vmlinuz" ] || die "no vmlinuz in the $name kernel's packages"
  extract_vmlinux "$vmlinuz" "$dir/vmlinux.new"
  mv "$dir/vmlinux.new" "$dir/vmlinux"
  # Modules live in /lib/modules or /usr/lib/modules; depmod wants the former.
  [ -d "$root/lib/modules/$release" ] || { mkdir -p "$root/lib"; ln -sfn ../usr/lib/modules "$root/lib/modules"; }
  depmod -b "$root" "$release" 2>/dev/null
  rm -rf "$initrd"
  mkdir -p "$initrd"
  : >"$initrd/order"
  for module in "${GUEST_MODULES[@]}"; do
    modprobe -d "$root" -S "$release" --show-depends "$module" 2>/dev/null | awk '$1 == "insmod" { print $2 }' || true
  done >"$work/module-paths"
  # modprobe names each file under the root it was given.
  while read -r path; do
    base=$(basename "$path")
    base=${base%.xz}
    base=${base%.zst}
    base=${base%.gz}
    grep -qxF "$base" "$initrd/order" && continue
    # Decompressed on the host: busybox insmod reads plain .ko files only.
    case "$path" in
      *.xz) xz -dc "$path" ;;
      *.zst) zstd -dcq "$path" ;;
      *.gz) gzip -dc "$path" ;;
      *) cat "$path" ;;
    esac >"$initrd/$base"
    echo "$base" >>"$initrd/order"
  done <"$work/module-paths"
  grep -qx '9p.ko' "$initrd/order" || die "the $name kernel has no 9p module: cannot share the host's root"
  rm -rf "$dir/modules" "$dir/initrd.gz"
  mv "$initrd" "$dir/modules"
}

# The initramfs: busybox, init.sh and the kernel's modules; made again when init.sh changes.
build_initrd() {
  local dir=$cache/$1 staging
  [ -f "$dir/initrd.gz" ] && [ "$dir/initrd.gz" -nt "$here/vm/init.sh" ] && [ "$dir/initrd.gz" -nt /bin/busybox ] && return 0
  [ -x /bin/busybox ] || die "busybox is missing: run bash scripts/setup.sh"
  staging=$(mktemp -d "$dir/initrd.XXXXXX")
  mkdir -p "$staging/bin"
  cp -r "$dir/modules" "$staging/modules"
  cp /bin/busybox "$staging/bin/busybox"
  install -m 0755 "$here/vm/init.sh" "$staging/init"
  (cd "$staging" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd.new"
  mv "$dir/initrd.new" "$dir/initrd.gz"
  rm -rf "$staging"
}

# Each kernel prepared at most once at a time, whoever asks.
with_lock() {
  mkdir -p "$cache"
  (
    flock 9
    "$@"
  ) 9>"$cache/lock"
}

ensure() {
  local name
  for name in "$@"; do
    suites_of "$name" >/dev/null
    with_lock prepare "$name" || die "kernel $name is not available"
    with_lock build_initrd "$name"
  done
}

cmd_kernels() {
  local name
  ensure "${KERNEL_NAMES[@]}"
  for name in "${KERNEL_NAMES[@]}"; do echo "$name $(cat "$cache/$name/release")"; done
}

cmd_fetch() {
  [ "$#" -gt 0 ] || set -- "${KERNEL_NAMES[@]}"
  ensure "$@"
}

cmd_run() {
  local name="" mode=plain timeout=600 memory=3072 job status rc out_dir append args=()
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --systemd) mode=systemd ;;
      --timeout) timeout=${2:?--timeout needs seconds}; shift ;;
      --memory) memory=${2:?--memory needs MiB}; shift ;;
      --) shift; break ;;
      -*) die "run: unknown option $1" ;;
      *) [ -z "$name" ] && name=$1 || die "run: unexpected '$1' (the command comes after --)" ;;
    esac
    shift
  done
  [ -n "$name" ] || die "usage: vm.sh run NAME [--systemd] [--timeout S] -- COMMAND [ARG...]"
  [ "$#" -gt 0 ] || die "run: no command (give it after --)"
  ensure "$name"
  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing: run bash scripts/setup.sh"

  job=$(mktemp -d "${TMPDIR:-/tmp}/mptcp-policy-vm.XXXXXX")
  chmod 0755 "$job"
  out_dir=${VM_OUT:-$job/out}
  mkdir -p "$out_dir"
  trap 'rm -rf "$job"' EXIT
  {
    echo "cd $(printf '%q' "$PWD") || exit 1"
    echo "export PATH=$(printf '%q' "$PATH") HOME=/root LANG=C.UTF-8 TERM=dumb"
    echo "export VM_OUT=$(printf '%q' "$out_dir") MPTCP_POLICY_VM=$(printf '%q' "$name")"
    # Settings meant for the guest's tests pass through (CI=, MPTCP_POLICY_*=).
    env | awk -F= '$1 ~ /^(CI|MPTCP_POLICY_[A-Z_]*)$/ && $1 != "MPTCP_POLICY_VM" { print $1 }' |
      while read -r var; do echo "export $var=$(printf '%q' "${!var}")"; done
    printf 'exec'
    printf ' %q' "$@"
    echo
  } >"$job/job.sh"
  if [ "$mode" = systemd ]; then write_systemd_units "$job"; fi

  append="console=ttyS0 loglevel=4 panic=-1 mitigations=off rdinit=/init vm.job=$job vm.mode=$mode"
  case "$job" in *[[:space:]]*) die "TMPDIR must not contain spaces" ;; esac
  if [ -n "${VM_OUT:-}" ]; then
    case "$out_dir" in *[[:space:]]*) die "VM_OUT must not contain spaces" ;; esac
    append+=" vm.out=$out_dir"
  fi
  args=(-accel tcg -cpu "${MPTCP_POLICY_LAB_CPU:-max}" -smp 2 -m "$memory" -machine pc -nodefaults -no-user-config -display none -no-reboot
    -kernel "$cache/$name/vmlinux" -initrd "$cache/$name/initrd.gz"
    -append "$append"
    -serial "file:$job/console.log" -chardev stdio,id=out,signal=off -serial chardev:out
    -device virtio-rng-pci
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
    -virtfs "local,path=$job,mount_tag=vmjob,security_model=none")
  if [ -n "${VM_OUT:-}" ]; then
    # The explicit output directory is shared writable at its own path.
    args+=(-virtfs "local,path=$out_dir,mount_tag=vmout,security_model=none")
  fi
  rc=0
  timeout -k 5 "$timeout" qemu-system-x86_64 "${args[@]}" </dev/null | tr -d '\r' || rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    say "$name: timed out after $timeout s"
    exit 124
  fi
  if [ ! -f "$job/status" ]; then
    say "$name: the guest ended without the command's status; its console:"
    tail -n 40 "$job/console.log" >&2
    exit 125
  fi
  status=$(cat "$job/status")
  exit "$status"
}

# --systemd: systemd is PID 1 and the job is a unit that runs once the system is up.
write_systemd_units() {
  local job=$1
  mkdir -p "$job/systemd"
  cat >"$job/systemd/vm-job.service" <<UNIT
[Unit]
Description=mptcp-policy lab job
After=multi-user.target
[Service]
Type=oneshot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS1
ExecStart=/bin/bash -c 'bash $job/job.sh; echo \$? >$job/status; sync; systemctl reboot --force --force >/dev/null 2>&1'
UNIT
  cat >"$job/systemd/vm-job.target" <<UNIT
[Unit]
Description=mptcp-policy lab job target
Requires=multi-user.target vm-job.service
After=multi-user.target
AllowIsolate=yes
UNIT
}

cmd_matrix() {
  local json="" names=()
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --json) json=${2:?--json needs a file}; shift ;;
      -*) die "matrix: unknown option $1" ;;
      *) names+=("$1") ;;
    esac
    shift
  done
  [ "${#names[@]}" -gt 0 ] || names=("${KERNEL_NAMES[@]}")
  ensure "${names[@]}"
  exec node "$here/vm/matrix.mjs" ${json:+--json "$json"} "${names[@]}"
}

command=${1:-}
[ "$#" -gt 0 ] && shift
case "$command" in
  kernels) cmd_kernels "$@" ;;
  fetch) cmd_fetch "$@" ;;
  run) cmd_run "$@" ;;
  matrix) cmd_matrix "$@" ;;
  release) ensure "${1:?}"; cat "$cache/$1/release" ;;
  *) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
