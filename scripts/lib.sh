# Shared by the project's scripts: install what the build and the tests need, once, and say so.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;32m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m==>\033[0m %s\n' "$*" >&2; exit 1; }

APT_UPDATED=""
# ensure_apt PACKAGE... : installs the Debian packages that are missing.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    $sudo apt-get update -q >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# The wasm32 toolchain: rustup's target when it is installed, else Debian's rustc-web with
# -Zbuild-std (see docs/wasm-toolchain.md). Sets WASM_CARGO (an array) and WASM_PATH_TAKEN.
ensure_wasm_toolchain() {
  if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    WASM_CARGO=(cargo)
    WASM_BUILD_STD=()
    WASM_PATH_TAKEN="rustup's wasm32-unknown-unknown target"
  else
    ensure_apt rustc-web cargo-web rust-web-src lld-22
    # The standard library is built here anyway, so panics can abort at once: no panic
    # messages or formatting machinery in the download (-Cpanic=immediate-abort).
    WASM_CARGO=(env PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
      "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=-Zunstable-options -Cpanic=immediate-abort --cfg erase_components" /usr/bin/cargo)
    WASM_BUILD_STD=(-Zbuild-std=std,panic_abort)
    WASM_PATH_TAKEN="Debian's rustc-web $(/usr/bin/rustc --version | cut -d' ' -f2) with -Zbuild-std (no rustup wasm32 target here)"
  fi
}

# wasm-bindgen CLI at exactly the version in Cargo.lock.
ensure_wasm_bindgen() {
  local want
  want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock")
  [ -n "$want" ] || die "wasm-bindgen is not in Cargo.lock"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    say "installing wasm-bindgen-cli $want (a few minutes, once)"
    cargo install -q wasm-bindgen-cli --version "=$want" || die "cargo install wasm-bindgen-cli $want failed"
  fi
}

# An npm package's command installed into .tools/ (once); prints nothing, fails softly: the
# storefront is then only larger. npm_tool PACKAGE@VERSION BIN-PATH-UNDER-node_modules WHAT
npm_tool() {
  local dir="$ROOT/.tools" package="$1" bin="$ROOT/.tools/node_modules/$2" what="$3"
  if [ ! -x "$bin" ] && command -v npm >/dev/null; then
    say "installing $package (npm) into .tools/"
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund --prefix "$dir" "$package" >/dev/null 2>&1) \
      || warn "npm install $package failed; $what will be larger"
  fi
  [ -x "$bin" ]
}

# wasm-opt from npm's binaryen (Debian's binaryen 108 produces modules that render nothing).
WASM_OPT=""
ensure_wasm_opt() {
  if npm_tool binaryen@132 binaryen/bin/wasm-opt "the storefront"; then
    WASM_OPT="$ROOT/.tools/node_modules/binaryen/bin/wasm-opt"
  fi
  return 0
}

# terser from npm for the JavaScript glue wasm-bindgen writes (a third smaller gzipped).
MINIFY_JS=""
ensure_minifier() {
  if npm_tool terser@5 .bin/terser "the JavaScript glue"; then
    MINIFY_JS="$ROOT/.tools/node_modules/.bin/terser"
  fi
  return 0
}

ensure_browser() {
  ensure_apt chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji
}

# axe-core (npm) for the browser tests' accessibility audit of every page; sets FXS_TEST_AXE_JS.
# Without it the audit cannot run, so this fails rather than skip it.
ensure_axe() {
  local js="$ROOT/.tools/node_modules/axe-core/axe.min.js"
  if [ ! -f "$js" ]; then
    command -v npm >/dev/null || ensure_apt npm
    say "installing axe-core@4 (npm) into .tools/"
    mkdir -p "$ROOT/.tools"
    (cd "$ROOT/.tools" && npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" axe-core@4 >/dev/null 2>&1) \
      || die "npm install axe-core failed: the accessibility audit needs it"
  fi
  export FXS_TEST_AXE_JS="$js"
}

# PostgreSQL for the tests: start the machine's cluster if it is installed but stopped.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  if command -v pg_ctlcluster >/dev/null; then
    local v
    v=$(ls /etc/postgresql 2>/dev/null | head -n1)
    if [ -n "$v" ]; then
      say "starting PostgreSQL $v"
      pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    fi
  else
    ensure_apt postgresql
    local v
    v=$(ls /etc/postgresql | head -n1)
    pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 1
  done
  die "PostgreSQL is not answering on 127.0.0.1:5432"
}
