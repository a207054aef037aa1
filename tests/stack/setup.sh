#!/usr/bin/env bash
# Installs and builds everything the real-stack tests (crates/test-stack) need,
# on a fresh Debian bookworm machine, as root. Idempotent: re-running skips
# finished steps. Output: target/kamailio/c-xmpp/xmpp.so (Debian's C xmpp
# module with the expat attribute-loop crash fixed, see shared KAMAILIO.md).
set -euo pipefail

say() { printf '[stack-setup] %s\n' "$*"; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KDIR="$REPO/target/kamailio"
SRC_PARENT="$KDIR/src"
BUILD_PARENT="$KDIR/build"
OUT_DIR="$KDIR/c-xmpp"
KVER="5.6.3"

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh must run as root (apt-get, and the tests need unshare)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive

PKGS=(kamailio kamailio-presence-modules kamailio-xmpp-modules prosody ejabberd
      baresip python3-slixmpp nftables
      dpkg-dev libexpat1-dev gcc make iproute2 util-linux)

# 1. deb-src entry mirroring the bookworm deb entries (only when none exists).
SRC_FILE=/etc/apt/sources.list.d/kamailio-test-stack-src.sources
# A bookworm one specifically: build-kamailio-6.0.sh adds a trixie deb-src entry of its own.
have_deb_src() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
        [ -f "$f" ] || continue
        grep -qsE '^(Types:.*deb-src|deb-src[[:space:]])' "$f" && grep -qsw bookworm "$f" && return 0
    done
    return 1
}
added_src=no
if have_deb_src; then
    say "a deb-src entry already exists; not adding one"
elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
    say "adding $SRC_FILE (deb-src copy of debian.sources)"
    sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' \
        /etc/apt/sources.list.d/debian.sources > "$SRC_FILE"
    added_src=yes
elif [ -f /etc/apt/sources.list ] && grep -qE '^deb[[:space:]]' /etc/apt/sources.list; then
    say "adding $SRC_FILE (deb-src copy of sources.list)"
    grep -E '^deb[[:space:]]' /etc/apt/sources.list | sed -E 's/^deb /deb-src /' \
        > /etc/apt/sources.list.d/kamailio-test-stack-src.list
    added_src=yes
else
    echo "no Debian deb entry found to mirror as deb-src" >&2
    exit 1
fi

# 2. Packages. Skip apt-get update when everything is installed and the
#    source package is already unpacked (a re-run then needs no network).
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
need_source=no
[ -d "$SRC_PARENT/kamailio-$KVER/src" ] || need_source=yes
if [ "${#missing[@]}" -gt 0 ] || [ "$need_source" = yes ] || [ "$added_src" = yes ]; then
    say "apt-get update"
    apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing: ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "packages already installed: ${PKGS[*]}"
fi
inst_ver="$(dpkg-query -W -f='${Version}' kamailio)"
case "$inst_ver" in
    "$KVER"-*) ;;
    *) echo "installed kamailio is $inst_ver, this script builds xmpp.so for $KVER" >&2; exit 1 ;;
esac

# 3. Debian's kamailio source (with debian/ patches applied), outside git.
if [ "$need_source" = yes ]; then
    say "apt-get source kamailio=$inst_ver into $SRC_PARENT"
    # Only this version's tree: $SRC_PARENT also holds the 6.0.1 source and build.
    rm -rf "$SRC_PARENT/kamailio-$KVER"
    mkdir -p "$SRC_PARENT"
    (cd "$SRC_PARENT" && apt-get source -qq "kamailio=$inst_ver")
else
    say "source present: $SRC_PARENT/kamailio-$KVER"
fi

# 4. Build copy with the one-line crash fix, then only the xmpp module.
BUILD="$BUILD_PARENT/kamailio-$KVER"
if [ ! -f "$BUILD/.copied" ]; then
    say "copying source to $BUILD"
    rm -rf "$BUILD"
    mkdir -p "$BUILD_PARENT"
    cp -a "$SRC_PARENT/kamailio-$KVER" "$BUILD"
    touch "$BUILD/.copied"
fi
XDIR="$BUILD/src/modules/xmpp"
# Expat ends atts[] with a NULL pointer: test the pointer, not its first char.
for f in xstream.c xode_from.c; do
    # Only when still unfixed, so a re-run keeps the mtime and skips the build.
    if grep -q '\*(atts\[i\])' "$XDIR/$f"; then
        sed -i 's/while (\*(atts\[i\]) != '"'"'\\0'"'"')/while (atts[i] != NULL)/' "$XDIR/$f"
    fi
done
for f in xstream.c xode_from.c; do
    if ! grep -q 'while (atts\[i\] != NULL)' "$XDIR/$f" || grep -q '\*(atts\[i\])' "$XDIR/$f"; then
        echo "crash fix not applied to $XDIR/$f" >&2
        exit 1
    fi
done
say "crash fix applied to xstream.c and xode_from.c"

OUT="$OUT_DIR/xmpp.so"
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CC_EXTRA_OPTS="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS) -DVERSION_NODATE"
LD_EXTRA_OPTS="$(dpkg-buildflags --get LDFLAGS)"
if [ ! -f "$OUT" ] || [ "$XDIR/xstream.c" -nt "$OUT" ] || [ "$XDIR/xode_from.c" -nt "$OUT" ]; then
    if [ ! -f "$BUILD/src/config.mak" ]; then
        say "make cfg (Debian flags)"
        make -C "$BUILD/src" cfg quiet=verbose prefix=/usr FLAVOUR=kamailio \
            CC_EXTRA_OPTS="$CC_EXTRA_OPTS" LD_EXTRA_OPTS="$LD_EXTRA_OPTS" \
            group_include=kstandard >"$BUILD_PARENT/make-cfg.log" 2>&1 \
            || { tail -50 "$BUILD_PARENT/make-cfg.log" >&2; exit 1; }
    fi
    say "building src/modules/xmpp"
    make -C "$XDIR" -j"$(nproc)" >"$BUILD_PARENT/make-xmpp.log" 2>&1 \
        || { tail -50 "$BUILD_PARENT/make-xmpp.log" >&2; exit 1; }
    mkdir -p "$OUT_DIR"
    cp "$XDIR/xmpp.so" "$OUT"
    say "built $OUT"
else
    say "up to date: $OUT"
fi

# 5. Prove Debian's core accepts it (module_version/flags check at loadmodule).
MODDIR="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/kamailio/modules"
CHK="$(mktemp -d)"
trap 'rm -rf "$CHK"' EXIT
cat >"$CHK/check.cfg" <<CFG
#!KAMAILIO
mpath="$MODDIR/"
loadmodule "tm.so"
loadmodule "$OUT"
request_route { exit; }
CFG
if ! /usr/sbin/kamailio -c -f "$CHK/check.cfg" >"$CHK/out" 2>&1; then
    cat "$CHK/out" >&2
    echo "Debian's kamailio refuses $OUT" >&2
    exit 1
fi
say "kamailio -c accepts $OUT (module version and flags match the core)"
say "done"
