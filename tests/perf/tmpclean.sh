#!/usr/bin/env bash
# Plan + clean of a 100,000-file tree with `shipdeck tmp clean` against
# `find ROOT -type f -mtime +7 -delete`, on identical fresh trees (half the files 10 days old).
#
#   tests/perf/tmpclean.sh            # builds the release binary, 3 rounds
#   SHIPDECK_BIN=path ROUNDS=5 tests/perf/tmpclean.sh
#
# Warm page cache (the tree was just written); prints each round and the medians.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DIRS=${DIRS:-200}
PER_DIR=${PER_DIR:-500}
here=$(cd "$(dirname "$0")/../.." && pwd)
if [[ -z "${SHIPDECK_BIN:-}" ]]; then
  (cd "$here" && cargo build --release --quiet --bin shipdeck)
  SHIPDECK_BIN="${CARGO_TARGET_DIR:-$here/target}/release/shipdeck"
fi
command -v find >/dev/null || { echo "needs find" >&2; exit 1; }

work=$(mktemp -d "${PERF_DIR:-/tmp}/shipdeck-tmpclean-perf.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One tree: $DIRS folders × $PER_DIR files; even-numbered files aged 10 days.
make_tree() {
  local root=$1
  mkdir -p "$root"
  (
    cd "$root"
    for d in $(seq -w 1 "$DIRS"); do mkdir "d$d"; done
    for d in $(seq -w 1 "$DIRS"); do
      seq -f "d$d/f%04g.dat" 1 "$PER_DIR"
    done | xargs touch
    find . -type f -name 'f*[02468].dat' -print0 | xargs -0 touch -d '10 days ago'
  )
}

cat > "$work/inventory.yaml" <<YAML
gitops: {url: "file:///nonexistent/gitops.git"}
apps:
  web: {image: example.com/web, layout: {kind: kustomize, path: "k/{env}.yaml"}}
environments:
  dev: {namespace: web-dev}
tmp:
  root: tree
  default_keep_days: 7
YAML

now_ns() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
count() { find "$1" -type f | wc -l; }

declare -a T_FIND T_SHIP
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$work/tree"; make_tree "$work/tree"; sync
  t0=$(now_ns); find "$work/tree" -type f -mtime +7 -delete; t1=$(now_ns)
  left_find=$(count "$work/tree")
  T_FIND+=("$(ms "$t0" "$t1")")

  rm -rf "$work/tree"; make_tree "$work/tree"; sync
  t0=$(now_ns)
  SHIPDECK_STATE="$work/state" SHIPDECK_CONFIG="$work/config" SHIPDECK_DATA="$work/data" \
    "$SHIPDECK_BIN" --inventory "$work/inventory.yaml" --yes tmp clean >"$work/out.txt"
  t1=$(now_ns)
  left_ship=$(count "$work/tree")
  T_SHIP+=("$(ms "$t0" "$t1")")
  if [[ "$left_find" != "$left_ship" ]]; then
    echo "round $r: find left $left_find files, shipdeck left $left_ship" >&2; exit 1
  fi
  echo "round $r: find ${T_FIND[-1]} ms, shipdeck plan+clean ${T_SHIP[-1]} ms (left $left_ship of $((DIRS * PER_DIR)))"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mf=$(median "${T_FIND[@]}"); ms_=$(median "${T_SHIP[@]}")
echo "files: $((DIRS * PER_DIR)) in $DIRS folders, half older than 7 days; cores: $(nproc)"
echo "median: find -mtime +7 -delete ${mf} ms; shipdeck tmp clean ${ms_} ms; ratio $(awk -v a="$ms_" -v b="$mf" 'BEGIN {printf "%.2f", a / b}') (goal <= 1.50)"
