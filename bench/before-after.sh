#!/usr/bin/env bash
# Before/after on the same machine in the same run (issue 13): each job alternates the two
# builds RUNS times and prints the median wall time, median CPU (user+sys) and the largest
# peak RSS of each. Usage: bench/before-after.sh BEFORE_ROOT AFTER_ROOT DATA_DIR [RUNS]
# BEFORE_ROOT holds the old build (bin/, dist/, node_modules/); its launchers' shebang flags are
# passed to node as a user's shell would; AFTER_ROOT's launchers are run as they are.
# DATA_DIR needs events-1m.ndjson, events-1m.csv (export-csv --no-escape-formulas of it),
# directory-1m.ndjson, registry-100k.ndjson (bench/gen-directory.mjs).
set -uo pipefail
before=$1 after=$2 data=$3 runs=${4:-3}
flags() { head -1 "$1" | sed -n 's/^#!.*\bnode\b//p'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# import-csv is the NDJSON writer's heaviest user (one small record per row); process the
# biggest output; export-csv the launcher change alone (it writes CSV, not NDJSON).
jobs=(
  "import-csv|bin/import-csv.js $data/events-1m.csv"
  "import-csv (stdin a pipe)|cat $data/events-1m.csv | NODE bin/import-csv.js"
  "process|bin/process.js --job user_management --registry $data/registry-100k.ndjson $data/directory-1m.ndjson"
  "process (stdin a pipe)|cat $data/directory-1m.ndjson | NODE bin/process.js --job user_management --registry $data/registry-100k.ndjson"
  "export-csv|bin/export-csv.js $data/events-1m.ndjson"
)
# ONLY=REGEX keeps the jobs whose name matches (e.g. ONLY='pipe').
if [ -n "${ONLY:-}" ]; then
  kept=(); for j in "${jobs[@]}"; do [[ ${j%%|*} =~ $ONLY ]] && kept+=("$j"); done; jobs=("${kept[@]}")
fi
printf '| job | build | median s | median CPU s | peak RSS MiB |\n|---|---|---:|---:|---:|\n'
for job in "${jobs[@]}"; do
  name=${job%%|*} cmd=${job#*|}
  declare -A wall=() cpu=() rss=()
  for ((i = 0; i < runs; i++)); do
    for side in before after; do
      root=$before; [ $side = after ] && root=$after
      bin=$(grep -o 'bin/[a-z-]*\.js' <<<"$cmd" | head -1)
      node="node $( [ $side = before ] && flags "$root/$bin")"
      if [[ $cmd == cat* ]]; then line=${cmd//NODE/$node}; else line="$node $cmd"; fi
      out=$( { cd "$root" && /usr/bin/time -f '%e %U %S %M' bash -c "${line//bin\//$root/bin/} > /dev/null"; } 2>&1 | tail -1)
      read -r e u s m <<<"$out"
      wall[$side]+="$e "; cpu[$side]+="$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}') "
      if [ "${rss[$side]:-0}" -lt "$m" ]; then rss[$side]=$m; fi
    done
  done
  for side in before after; do
    printf '| %s | %s | %s | %s | %.1f |\n' "$name" "$side" "$(tr ' ' '\n' <<<"${wall[$side]}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${cpu[$side]}" | grep . | median)" "$(awk -v k="${rss[$side]}" 'BEGIN{print k/1024}')"
  done
  unset wall cpu rss
done
