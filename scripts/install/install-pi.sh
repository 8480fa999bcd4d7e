#!/usr/bin/env bash
# Installs deepn-edge as a systemd service on Raspberry Pi OS (Bookworm or later) / Debian, from the prebuilt
# package that `npm pack` makes on a development machine (compiled JavaScript: no TypeScript on the device):
#   sudo bash install-pi.sh deepn-edge-X.Y.Z.tgz [mqtt://broker:1883]
# Only the agent's runtime dependencies are installed (--omit=dev; the backend-only onnxruntime-web and sharp are
# optional peers and stay off the Pi). better-sqlite3 fetches a prebuilt binary, or compiles with python3, make, g++.
# Idempotent: re-running updates the code and keeps /etc/deepn-edge/config.json and the buffer.
set -euo pipefail

PREFIX=/opt/deepn-edge
ETC=/etc/deepn-edge
STATE=/var/lib/deepn-edge
PACKAGE="${1:-}"
BROKER="${2:-}"

usage() { echo "usage: sudo bash install-pi.sh deepn-edge-X.Y.Z.tgz [mqtt://broker:1883]  (make the .tgz with 'npm pack' in a checkout)" >&2; exit 2; }
case "$PACKAGE" in *.tgz) [ -f "$PACKAGE" ] || { echo "install-pi.sh: no such package file: $PACKAGE" >&2; exit 1; } ;; *) usage ;; esac
PACKAGE="$(cd "$(dirname "$PACKAGE")" && pwd)/$(basename "$PACKAGE")"
tar -tzf "$PACKAGE" package/dist/agent/cli.js >/dev/null 2>&1 || { echo "install-pi.sh: $PACKAGE is not a built deepn-edge package (no dist/agent/cli.js)" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "install-pi.sh: run as root (sudo)" >&2; exit 1; }

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "install-pi.sh: Node.js >= 20 is required (Raspberry Pi OS: sudo apt-get install -y nodejs npm, or NodeSource)" >&2
  exit 1
fi
if command -v rpicam-still >/dev/null || command -v libcamera-still >/dev/null; then
  echo "camera: rpicam-apps found (set capture.source to \"rpicam\")"
elif command -v raspistill >/dev/null; then
  echo "camera: legacy raspistill found (set capture.source to \"raspistill\")"
else
  echo "camera: no rpicam-still/libcamera-still/raspistill on PATH; the synthetic source will be used (sudo apt-get install -y rpicam-apps)"
fi

id deepn >/dev/null 2>&1 || useradd --system --home "$STATE" --shell /usr/sbin/nologin --groups video deepn

install -d -m 0755 "$PREFIX"
# The package replaces the old code whole (config and buffer live in $ETC and $STATE, not here).
find "$PREFIX" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
tar -C "$PREFIX" --strip-components=1 -xzf "$PACKAGE"
chmod 0755 "$PREFIX/agent/bin/deepn" # the unit's ExecStart (npm marks bins executable only when it installs a package)
cd "$PREFIX"
npm install --omit=dev --omit=peer --no-audit --no-fund --no-package-lock

install -d -m 0750 -o root -g deepn "$ETC"
install -d -m 0750 -o deepn -g deepn "$STATE"
if [ ! -f "$ETC/config.json" ]; then
  SOURCE=synthetic
  if command -v rpicam-still >/dev/null || command -v libcamera-still >/dev/null; then SOURCE=rpicam; elif command -v raspistill >/dev/null; then SOURCE=raspistill; fi
  cat > "$ETC/config.json" <<JSON
{
  "mqtt": { "url": "${BROKER:-mqtt://localhost:1883}" },
  "capture": { "source": "$SOURCE", "width": 1280, "height": 720, "intervalMs": 1000 },
  "buffer": { "path": "$STATE/buffer.db" }
}
JSON
  chmod 0640 "$ETC/config.json"; chgrp deepn "$ETC/config.json"
  echo "wrote $ETC/config.json (edit it; all keys: $PREFIX/docs/config.md)"
fi
[ -f "$ETC/env" ] || { printf '# DEEPN_MQTT_PASSWORD=...\n' > "$ETC/env"; chmod 0640 "$ETC/env"; chgrp deepn "$ETC/env"; }

install -m 0644 "$PREFIX/scripts/install/deepn-edge.service" /etc/systemd/system/deepn-edge.service
systemctl daemon-reload
systemctl enable --now deepn-edge.service
systemctl --no-pager --lines=5 status deepn-edge.service || true
echo "logs: journalctl -u deepn-edge -f"
