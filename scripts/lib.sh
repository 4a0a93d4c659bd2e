# Shared helpers for scripts/run and scripts/test. Sourced, not executed.

# Debian/Ubuntu packages needed to build and run the desktop app.
BUILD_PACKAGES="libwebkit2gtk-4.1-dev build-essential pkg-config file libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev"
# (libayatana-appindicator3-dev brings libayatana-appindicator3-1, which the tray icon loads at
# run time.)
# Extra packages for the tests: virtual display, WebDriver, private D-Bus with a keychain, and
# for the tray tests an XEmbed tray (trayer), a notification daemon (dunst) and python3 (closes
# the window the way a window manager's close button does); xdg-utils for xdg-open, which the
# inbox test points at a stand-in browser.
TEST_PACKAGES="xvfb xauth webkit2gtk-driver dbus gnome-keyring libsecret-tools xdotool x11-utils imagemagick fonts-noto-color-emoji procps trayer dunst python3 xdg-utils"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Runs a command as root: directly when root, else through sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the missing Debian packages among "$@" with apt-get (Debian 12 / Ubuntu).
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "This script installs them with apt-get on Debian/Ubuntu. On other systems install the equivalents of" >&2
    echo "WebKitGTK 4.1 (dev), GTK 3, libsoup 3, librsvg, libayatana-appindicator, OpenSSL, pkg-config and a C compiler;" >&2
    echo "see https://v2.tauri.app/start/prerequisites/ (Fedora: webkit2gtk4.1-devel; Arch: webkit2gtk-4.1)." >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_npm() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
