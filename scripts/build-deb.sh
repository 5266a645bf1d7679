#!/usr/bin/env bash
# Builds the Debian package dist/mptcp-policy_VERSION_ARCH.deb with Debian's own
# tools (dpkg-shlibdeps for the native parts' dependencies, dpkg-deb to build it,
# lintian to check it), from a checkout where `bash scripts/setup.sh` has run:
#
#   bash scripts/build-deb.sh
#
# What goes where, and why, is in docs/packaging.md. The unit is made from
# examples/mptcp-policy.service with the packaged paths; the man pages and bash
# completion are generated from the command table (scripts/packaging-files.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
maintainer="mptcp-policy maintainers <maintainers@users.noreply.r-seed-d30069c7.example>"
deb="dist/mptcp-policy_${version}_${arch}.deb"
# Reproducible: every date in the package is the last commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}

stage=$(mktemp -d "${TMPDIR:-/tmp}/mptcp-policy-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/mptcp-policy
doc=$root/usr/share/doc/mptcp-policy

echo "build-deb: building the CLI and the playground"
# Under the test suite the CLI was built once for every file (test/global-build.ts):
# building it again here rewrote dist/ under the other files' running CLIs.
[ -n "${MPTCP_POLICY_CLI_BUILT:-}" ] || node scripts/build.mjs
node scripts/build-playground.mjs >/dev/null
for built in dist/mptcp-policy.js dist/mptcp-policy-bpf dist/playground/index.html node_modules/netlink/build/Release/netlink_binding.node; do
  [ -e "$built" ] || { echo "build-deb: $built is missing: run 'bash scripts/setup.sh' first" >&2; exit 1; }
done

# The program, laid out as in the checkout so that bin/mptcp-policy finds its bundle
# (../dist) and the bundle finds the netlink addon (node_modules) and the BPF helper
# and the playground next to it. "type": "module" makes Node read both as ES modules.
install -d "$lib/bin" "$lib/dist" "$lib/node_modules" "$root/usr/bin"
install -m 0755 bin/mptcp-policy "$lib/bin/mptcp-policy"
install -m 0644 dist/mptcp-policy.js "$lib/dist/"
# `check`'s start-up snapshot is built on the host by the postinst, with the node
# installed there (a snapshot loads only in the binary that built it): the entry and
# the script that builds it are packaged, not the snapshot.
install -m 0644 dist/mptcp-policy-check.cjs "$lib/dist/"
install -d "$lib/scripts"
install -m 0755 scripts/build-snapshot.mjs "$lib/scripts/"
# Native addons the bundle loads from its own directory (the daemon's sd_notify).
native=()
for addon in dist/*.node; do
  [ -e "$addon" ] || continue
  install -m 0644 "$addon" "$lib/dist/"
  native+=("$lib/dist/$(basename "$addon")")
done
# The BPF helper again, with Debian's hardening flags (dpkg-buildflags), as a package's
# C program is built; the checkout's own build (scripts/build.mjs) does not need them.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
# shellcheck disable=SC2046
gcc $(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS) -Wall -Wextra -Werror \
  -o "$lib/dist/mptcp-policy-bpf" runtime/bpf/helper/mptcp-policy-bpf.c $(dpkg-buildflags --get LDFLAGS) -lbpf
cp -r dist/playground "$lib/dist/playground"
find "$lib/dist/playground" -name '*.map' -delete
node -e 'const p = require("./package.json"); process.stdout.write(JSON.stringify({ name: p.name, version: p.version, private: true, type: "module" }, null, 2) + "\n")' >"$lib/package.json"
install -d "$lib/node_modules/netlink/build/Release" "$lib/node_modules/node-gyp-build"
(cd node_modules/netlink && find dist -name '*.js' -print0 | cpio -0 -pdm --quiet "$lib/node_modules/netlink")
install -m 0644 node_modules/netlink/package.json "$lib/node_modules/netlink/"
# The addon built from the patched source (patches/, scripts/build-netlink-addon.mjs),
# not the package's prebuilds.
install -m 0644 node_modules/netlink/build/Release/netlink_binding.node "$lib/node_modules/netlink/build/Release/"
for f in package.json index.js node-gyp-build.js; do install -m 0644 "node_modules/node-gyp-build/$f" "$lib/node_modules/node-gyp-build/"; done
ln -s ../lib/mptcp-policy/bin/mptcp-policy "$root/usr/bin/mptcp-policy"
# Debug symbols out, as dh_strip does.
native+=("$lib/dist/mptcp-policy-bpf" "$lib/node_modules/netlink/build/Release/netlink_binding.node")
strip --strip-unneeded --remove-section=.comment --remove-section=.note "${native[@]}"

# The unit, from the example: packaged paths, and the install notes (which are for an
# install by hand) replaced. Anything left pointing at /usr/local or /opt is a mistake.
install -d "$root/usr/lib/systemd/system"
{
  echo "# systemd unit of the mptcp-policy daemon, installed by the mptcp-policy package"
  echo "# and not enabled. The policy is /etc/mptcp-policy/ (man 5 mptcp-policy.policy):"
  echo "#   systemctl enable --now mptcp-policy    # start it now and at boot"
  echo "#   systemctl reload mptcp-policy          # apply an edited policy"
  sed -e '1,/^\[Unit\]/{/^\[Unit\]/!d}' \
    -e 's|/usr/local/bin/mptcp-policy|/usr/bin/mptcp-policy|g' \
    -e 's|^Documentation=.*|Documentation=man:mptcp-policy(8) man:mptcp-policy.policy(5)|' \
    -e 's|/opt/mptcp-policy|/usr/lib/mptcp-policy|g' \
    examples/mptcp-policy.service
} >"$root/usr/lib/systemd/system/mptcp-policy.service"
if grep -nE '/usr/local|/opt/' "$root/usr/lib/systemd/system/mptcp-policy.service"; then
  echo "build-deb: the unit still names a path outside the package (above): adjust the sed in scripts/build-deb.sh" >&2
  exit 1
fi

# The starter policy (a conffile), the man pages and the completion.
install -d "$root/etc/mptcp-policy"
install -m 0644 packaging/main.policy "$root/etc/mptcp-policy/main.policy"
node scripts/packaging-files.mjs "$root" >/dev/null
chmod 0644 "$root"/usr/share/man/man*/* "$root/usr/share/bash-completion/completions/mptcp-policy"
gzip -9n "$root"/usr/share/man/man*/*

# Documentation, the examples, the changelog and the copyright file.
install -d "$doc/examples"
for f in README.md docs/*.md; do [ "$f" = docs/development.md ] && continue; install -m 0644 "$f" "$doc/"; done
for d in examples/*/; do
  name=$(basename "$d")
  [ -n "$(find "$d" -maxdepth 3 -type f \( -name '*.policy' -o -name '*.yml' -o -name '*.j2' -o -name '*.cfg' -o -name '*.ini' -o -name '*.md' \) -print -quit)" ] || continue
  (cd examples && find "$name" -type f \( -name '*.policy' -o -name '*.yml' -o -name '*.j2' -o -name '*.cfg' -o -name '*.ini' -o -name '*.md' \) -print0 | cpio -0 -pdm --quiet "$doc/examples")
done
install -m 0644 dist/mptcp-policy.js.LEGAL.txt "$doc/third-party-notices.txt"
date=$(date -u -d "@$SOURCE_DATE_EPOCH" -R)
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@DATE@|$date|" packaging/changelog.in >"$doc/changelog"
find "$doc" -type f \( -name '*.md' -o -name changelog -o -name '*.txt' \) -size +4k -exec gzip -9n {} +
gzip -9n "$doc/changelog" 2>/dev/null || true
{
  sed "s|@YEAR@|$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)|" packaging/copyright.in
  node packaging/bundled-licenses.mjs .
} >"$doc/copyright"

# Every file and directory: owned by root (dpkg-deb --root-owner-group), no write for others.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -perm -u+x -exec chmod 0644 {} +
find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

# Control files. The native parts' library dependencies come from dpkg-shlibdeps,
# which reads a debian/control of its own.
mkdir -p "$stage/src/debian" "$root/DEBIAN"
printf 'Source: mptcp-policy\n\nPackage: mptcp-policy\nArchitecture: any\n' >"$stage/src/debian/control"
# (The addon's references to Node's N-API symbols are resolved by node itself: -w quiet.)
shlibs=$(cd "$stage/src" && dpkg-shlibdeps -O --warnings=0 "${native[@]}" | sed -n 's/^shlibs:Depends=//p')
installed_size=$(du -sk --apparent-size "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
  -e "s|@INSTALLED_SIZE@|$installed_size|" -e "s|@DEPENDS@|nodejs (>= 20.19), $shlibs|" packaging/control.in >"$root/DEBIAN/control"
echo /etc/mptcp-policy/main.policy >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/$script" "$root/DEBIAN/$script"; done
install -m 0644 packaging/triggers "$root/DEBIAN/triggers"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p dist
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "build-deb: wrote $deb ($(du -k "$deb" | cut -f1) KiB, installed $installed_size KiB)"

# lintian: no error may remain; the warnings left are explained in docs/packaging.md.
if command -v lintian >/dev/null; then
  lintian --fail-on error --display-info --tag-display-limit 0 "$deb" || { echo "build-deb: lintian found errors (above)" >&2; exit 1; }
fi
