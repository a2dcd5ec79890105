#!/usr/bin/env bash
# Linux package proof (run by ./dev.sh test inside its Xvfb + D-Bus session):
# build the .deb and .rpm, check the .deb with lintian, install it, launch the
# installed /usr/bin/kolokol, have it answer `kolokol send`, uninstall, and check
# that nothing of ours is left behind (user data excepted); the command
# installed beside the app links no WebKit.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
passed=0
failed=0
ok() { echo "package: ok   - $*"; passed=$((passed + 1)); }
bad() { echo "package: FAIL - $*"; failed=$((failed + 1)); }

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo -n)

# The packaged changelog.gz must be packaging/changelog, compressed as Debian does.
if gzip -9nc packaging/changelog | cmp -s - packaging/changelog.gz; then
  ok "packaging/changelog.gz is packaging/changelog"
else
  bad "packaging/changelog.gz is stale: gzip -9nc packaging/changelog > packaging/changelog.gz"
fi

npx --no-install tauri build --bundles deb,rpm
deb=$(ls -t "$target"/release/bundle/deb/*.deb | head -1)
rpm=$(ls -t "$target"/release/bundle/rpm/*.rpm | head -1)
size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }
echo "package: kolokol $(mib "$(size "$target/release/kolokol")"), kolokol-ui $(mib "$(size "$target/release/kolokol-ui")"), .deb $(mib "$(size "$deb")"), .rpm $(mib "$(size "$rpm")"), installed $(dpkg-deb -f "$deb" Installed-Size) KiB"
# Issue 5's goal was 8 MiB. The tray-only app in `kolokol` (no WebKit)
# carries its own copy of the history, toasts and tray code: 8.42 MiB on
# 2026-12-01 (see README, Packages). 9 MiB keeps further growth in check.
[ "$(size "$deb")" -le $((9 * 1048576)) ] && ok ".deb is at most 9 MiB" || bad ".deb is over 9 MiB"

# lintian: errors fail; the warnings we keep are explained in the README.
if lintian --fail-on error "$deb"; then
  ok "lintian: no errors"
else
  bad "lintian found errors"
fi

"${sudo[@]}" dpkg -i "$deb" >/dev/null && ok "dpkg -i" || bad "dpkg -i"
# The command a PBX runs for every call loads no WebKit; the app it hands over to does.
if [ -x /usr/bin/kolokol-ui ] && ! ldd /usr/bin/kolokol | grep -q webkit && ldd /usr/bin/kolokol-ui | grep -q libwebkit2gtk; then
  ok "/usr/bin/kolokol links no WebKit; /usr/bin/kolokol-ui beside it does"
else
  bad "the installed binaries: $(ls /usr/bin/kolokol*)"; ldd /usr/bin/kolokol
fi
data=$(mktemp -d)
/usr/bin/kolokol --data-dir "$data" --minimized >"$data/app.log" 2>&1 &
app=$!
for _ in $(seq 100); do
  /usr/bin/kolokol --data-dir "$data" status --json >/dev/null 2>&1 && break
  sleep 0.2
done
# Started into the tray, the installed app is `kolokol` itself: WebKit not loaded.
if grep -q "starting into the tray" "$data/app.log" && ! grep -q libwebkit2gtk "/proc/$app/maps"; then
  ok "the installed app in the tray runs without WebKit"
else
  bad "the installed app in the tray: $(grep -c libwebkit2gtk "/proc/$app/maps") WebKit mappings"; cat "$data/app.log"
fi
if /usr/bin/kolokol --data-dir "$data" send add_call '{"text":"Звонок из пакета","from":"+7 999 000 00 00"}'; then
  ok "the installed app answers kolokol send"
else
  bad "kolokol send to the installed app"; cat "$data/app.log"
fi
/usr/bin/kolokol --data-dir "$data" history --json >"$data/history.json"
grep -q "Звонок из пакета" "$data/history.json" && ok "stored in its history" || bad "not in its history"
kill "$app"
wait "$app" 2>/dev/null || true

files=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$')
"${sudo[@]}" dpkg -r kolokol >/dev/null && ok "dpkg -r" || bad "dpkg -r"
left=0
for f in $files; do
  [ -e "$f" ] && { echo "package: left behind: $f"; left=1; }
done
[ "$left" = 0 ] && ok "nothing of ours left after dpkg -r" || bad "files left after dpkg -r"
rm -rf "$data"

echo "package: $passed passed, $failed failed"
[ "$failed" = 0 ]
