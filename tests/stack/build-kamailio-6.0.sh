#!/usr/bin/env bash
# Builds Kamailio 6.0.1 (Debian 13 "trixie"'s source package, Debian patches applied) on a
# Debian 12 "bookworm" machine, with bookworm's compilers and libraries only, as root.
# Idempotent: finished steps are skipped (stamp files), a re-run needs no network.
#
# Result (all under target/, never committed):
#   target/kamailio/src/kamailio-6.0.1/    unpacked source (headers for the layout test; built in place)
#   target/kamailio/6.0.1/sbin/kamailio     the core, modules in target/kamailio/6.0.1/lib/kamailio/modules/
# Modules: the kxmpp group (xmpp, with the expat attribute-loop crash fixed) plus
#   tm sl rr pv maxfwd textops siputils xlog kex ctl db_text usrloc registrar presence presence_xml
#   pua pua_xmpp (what crates/test-stack/kamailio.cfg.tmpl loads).
#
# Environment: KAMAILIO60_DEB_VERSION pins the Debian version (default: the newest 6.0.1-* that
# `apt-cache showsrc kamailio` lists); JOBS sets make's parallelism (default 2).
set -euo pipefail

say() { printf '[kamailio-6.0] %s\n' "$*"; }
die() { printf '[kamailio-6.0] ERROR: %s\n' "$*" >&2; exit 1; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KDIR="$REPO/target/kamailio"
SRC_PARENT="$KDIR/src"
UPSTREAM="6.0.1"
SRC="$SRC_PARENT/kamailio-$UPSTREAM"
PREFIX="$KDIR/$UPSTREAM"
JOBS="${JOBS:-2}"
MODULES="tm sl rr pv maxfwd textops siputils xlog kex ctl db_text usrloc registrar presence presence_xml pua pua_xmpp"
# The version-check strings of this build (shared KAMAILIO.md, "Kamailio 6.0").
WANT_VERSION="kamailio $UPSTREAM (x86_64/linux)"
WANT_FLAGS="USE_TCP, USE_TLS, USE_SCTP, TLS_HOOKS, USE_RAW_SOCKS, DISABLE_NAGLE, USE_MCAST, DNS_IP_HACK, SHM_MMAP, PKG_MALLOC, MEM_JOIN_FREE, Q_MALLOC, F_MALLOC, TLSF_MALLOC, DBG_SR_MEMORY, USE_FUTEX, FAST_LOCK-ADAPTIVE_WAIT, USE_DNS_CACHE, USE_DNS_FAILOVER, USE_NAPTR, USE_DST_BLOCKLIST, HAVE_RESOLV_RES, TLS_PTHREAD_MUTEX_SHARED"

[ "$(id -u)" = 0 ] || die "run as root (apt-get)"
[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported (the expected flags/version strings are x86_64's)"
export DEBIAN_FRONTEND=noninteractive
T0=$SECONDS

# Stamps live inside what they describe, so deleting a directory redoes its steps.
ST_UNPACKED="$SRC/.stamp-unpacked"
ST_FIXED="$SRC/.stamp-xmpp-fix"
ST_CFG="$SRC/.stamp-cfg"
ST_BUILT="$SRC/.stamp-built"
ST_INSTALLED="$PREFIX/.stamp-installed"

# 1. Build tools and libraries, from bookworm (trixie is added as deb-src only: no binaries).
PKGS=(gcc make bison flex libxml2-dev libexpat1-dev pkgconf dpkg-dev xz-utils)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# 2. Source package: trixie deb-src entry, download, unpack (Debian's patches get applied).
if [ ! -f "$ST_UNPACKED" ]; then
    SRC_LIST=/etc/apt/sources.list.d/kamailio-trixie-src.sources
    if [ ! -f "$SRC_LIST" ]; then
        # Same archive URI as bookworm's main entry.
        uri=""
        if [ -f /etc/apt/sources.list.d/debian.sources ]; then
            uri="$(awk '/^URIs:/{u=$2} /^Suites:/ && / bookworm( |$)/ && u!=""{print u; exit}' \
                /etc/apt/sources.list.d/debian.sources)"
        fi
        if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
            # "deb [opts] URI suite": the URI is the field after the options.
            uri="$(awk '$1=="deb" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1)=="bookworm") { print $i; exit } }' /etc/apt/sources.list)"
        fi
        [ -n "$uri" ] || uri="http://deb.debian.org/debian"
        say "adding $SRC_LIST (deb-src $uri trixie main)"
        cat >"$SRC_LIST" <<EOF
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    say "apt-get update"
    apt-get update -qq
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing (bookworm): ${missing[*]}"
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
        missing=()
    fi
    debver="${KAMAILIO60_DEB_VERSION:-}"
    if [ -z "$debver" ]; then
        for v in $(apt-cache showsrc kamailio | awk '/^Package: /{p=$2} /^Version: /{ if (p=="kamailio") print $2 }'); do
            case "$v" in "$UPSTREAM"-*)
                if [ -z "$debver" ] || dpkg --compare-versions "$v" gt "$debver"; then debver="$v"; fi ;;
            esac
        done
    fi
    [ -n "$debver" ] || die "apt-cache showsrc kamailio lists no $UPSTREAM-* version (is the trixie deb-src entry active?)"
    mkdir -p "$SRC_PARENT"
    dsc="$SRC_PARENT/kamailio_${debver#*:}.dsc"
    # The archive may answer 404 for the upstream signature (.orig.tar.gz.asc) listed in the
    # .dsc; apt-get then exits non-zero after fetching everything else (already checked against
    # the signed Sources index). Tolerate that, then check every file but the .asc ourselves.
    say "apt-get source --download-only kamailio=$debver"
    (cd "$SRC_PARENT" && apt-get source -qq --download-only "kamailio=$debver") \
        || say "apt-get source exited non-zero (a missing .asc is expected); checking the files"
    [ -f "$dsc" ] || die "download did not produce $dsc"
    awk '/^Checksums-Sha256:/{f=1; next} /^[^ ]/{f=0} f && NF==3 && $3 !~ /\.asc$/ {print $1 "  " $3}' "$dsc" \
        | (cd "$SRC_PARENT" && sha256sum --quiet -c -) || die "checksum mismatch for the files of $dsc"
    say "dpkg-source -x $(basename "$dsc")"
    rm -rf "$SRC"
    (cd "$SRC_PARENT" && dpkg-source -q --no-check -x "$dsc" "kamailio-$UPSTREAM")
    touch "$ST_UNPACKED"
else
    say "source present: $SRC"
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing (bookworm): ${missing[*]}"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

# 3. The xmpp module's expat glue: expat ends atts[] with a NULL pointer; test the pointer,
#    not its first character (otherwise the XMPP process segfaults on the first element).
XDIR="$SRC/src/modules/xmpp"
if [ ! -f "$ST_FIXED" ]; then
    for f in xstream.c xode_from.c; do
        sed -i -E "s/\*\(atts\[i\]\)[[:space:]]*!=[[:space:]]*'\\\\0'/atts[i] != NULL/" "$XDIR/$f"
    done
    touch "$ST_FIXED"
fi
for f in xstream.c xode_from.c; do
    if grep -q '\*(atts\[i\])' "$XDIR/$f" || ! grep -q 'atts\[i\] != NULL' "$XDIR/$f"; then
        die "crash fix not applied to $XDIR/$f"
    fi
done
say "xmpp crash fix in place (xstream.c, xode_from.c)"

# 4. Configure with the make system (6.0.1's CMake files still say 6.0.0-rc0) and Debian-like
#    flags. LIBSSL_SET_MUTEX_SHARED=1 (-DKSR_PTHREAD_MUTEX_SHARED, "TLS_PTHREAD_MUTEX_SHARED" in
#    the flags string) is 6.0.1's default; 5.x derived it from libssl-dev. Explicit, so the flags
#    string never depends on which -dev packages happen to be installed.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CC_EXTRA_OPTS="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS) -DVERSION_NODATE"
LD_EXTRA_OPTS="$(dpkg-buildflags --get LDFLAGS)"
MAKEVARS=(FLAVOUR=kamailio LIBSSL_SET_MUTEX_SHARED=1)
LOG="$SRC_PARENT/build-$UPSTREAM"
# The stamp holds the configuration, so changing the prefix, module list or flags reconfigures.
CFG_ID="prefix=$PREFIX/ modules=$MODULES cc=$CC_EXTRA_OPTS ld=$LD_EXTRA_OPTS ${MAKEVARS[*]}"
if [ ! -f "$ST_CFG" ] || [ "$(cat "$ST_CFG")" != "$CFG_ID" ]; then
    say "make cfg prefix=$PREFIX/"
    make -C "$SRC" cfg "${MAKEVARS[@]}" prefix="$PREFIX/" \
        CC_EXTRA_OPTS="$CC_EXTRA_OPTS" LD_EXTRA_OPTS="$LD_EXTRA_OPTS" \
        group_include=kxmpp include_modules="$MODULES" >"$LOG-cfg.log" 2>&1 \
        || { tail -40 "$LOG-cfg.log" >&2; die "make cfg failed (log: $LOG-cfg.log)"; }
    rm -f "$ST_BUILT" "$ST_INSTALLED"
    printf '%s' "$CFG_ID" >"$ST_CFG"
fi

# 5. Build and install.
if [ ! -f "$ST_BUILT" ]; then
    say "make -j$JOBS all (log: $LOG-all.log)"
    make -C "$SRC" -j"$JOBS" all "${MAKEVARS[@]}" >"$LOG-all.log" 2>&1 \
        || { tail -40 "$LOG-all.log" >&2; die "make all failed (log: $LOG-all.log)"; }
    rm -f "$ST_INSTALLED"
    touch "$ST_BUILT"
fi
if [ ! -f "$ST_INSTALLED" ] || [ ! -x "$PREFIX/sbin/kamailio" ]; then
    say "make install into $PREFIX"
    make -C "$SRC" install "${MAKEVARS[@]}" >"$LOG-install.log" 2>&1 \
        || { tail -40 "$LOG-install.log" >&2; die "make install failed (log: $LOG-install.log)"; }
    touch "$ST_INSTALLED"
fi

# 6. Verify: version-check strings, and a config loading every built module passes `kamailio -c`.
KAM="$PREFIX/sbin/kamailio"
MODDIR="$PREFIX/lib/kamailio/modules"
vout="$("$KAM" -v)"
# "version: kamailio 6.0.1 (x86_64/linux) fce50d": the core's full_version is SER_FULL_VERSION,
# a space and REPO_VER (the upstream tarball's git id); modules are checked against the part
# up to ")" only.
got_version="$(sed -n 's/^version: *//p' <<<"$vout" | sed -E 's/^([^)]*\)).*$/\1/')"
got_flags="$(sed -n 's/^flags: *//p' <<<"$vout" | sed 's/ *$//')"
[ "$got_version" = "$WANT_VERSION" ] || die "kamailio -v version is '$got_version', want '$WANT_VERSION'"
[ "$got_flags" = "$WANT_FLAGS" ] || die "kamailio -v flags are '$got_flags', want '$WANT_FLAGS'"
say "kamailio -v: $got_version; flags as Debian's"

CHK="$(mktemp -d)"
trap 'rm -rf "$CHK"' EXIT
mkdir -p "$CHK/db" "$CHK/run"
cp "$PREFIX"/share/kamailio/dbtext/kamailio/{version,presentity,active_watchers,watchers,xcap,pua} "$CHK/db/"
cat >"$CHK/check.cfg" <<CFG
#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:127.0.0.1:5060
loadmodule "db_text.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "kex.so"
loadmodule "ctl.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"
loadmodule "pua.so"
loadmodule "xmpp.so"
loadmodule "pua_xmpp.so"
modparam("ctl", "binrpc", "unix:$CHK/run/ctl.sock")
modparam("presence", "db_url", "text://$CHK/db")
modparam("presence", "subs_db_mode", 1)
modparam("presence", "publ_cache", 2)
modparam("pua", "db_url", "text://$CHK/db")
modparam("xmpp", "backend", "component")
modparam("xmpp", "xmpp_domain", "gw.xmpp.example")
modparam("xmpp", "gateway_domain", "sip.example")
modparam("xmpp", "xmpp_host", "127.0.0.1")
modparam("xmpp", "xmpp_password", "secret")
modparam("pua_xmpp", "server_address", "sip:sa@sip.example")
request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (is_method("NOTIFY")) { pua_xmpp_notify(); exit; }
    xlog("L_INFO", "\$rm from \$fu\n");
    sl_send_reply("404", "Not here");
}
CFG
if ! "$KAM" -c -f "$CHK/check.cfg" -L "$MODDIR" -Y "$CHK/run" >"$CHK/out" 2>&1; then
    cat "$CHK/out" >&2
    die "kamailio -c rejects a config loading: $MODULES xmpp"
fi
say "kamailio -c accepts a config loading $MODULES xmpp (-L $MODDIR)"
say "done in $((SECONDS - T0)) s: $KAM"
