#!/usr/bin/env bash
# The main job on the bundled example data, the way a batch job would run it:
#   process → export-csv → analyze → notify   (notify with its embedded default: an outbox of .eml files)
# Leaves in examples/out/ (or $OUT): events.ndjson, errors.csv, summary.ndjson, report.html, outbox/*.eml, notification.json
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The binaries of this checkout (installed, they are on PATH as process, analyze, ...).
bin="$here/../bin"
process()    { "$bin/process.js" "$@"; }
analyze()    { "$bin/analyze.js" "$@"; }
export-csv() { "$bin/export-csv.js" "$@"; }
notify()     { "$bin/notify.js" "$@"; }
out=${OUT:-$here/out}
mkdir -p "$out"
cd "$out"

# The run's clock: entries carry no time of their own, so they get this one (the log lines keep
# theirs), and a rerun gives the same bytes. A real job passes its start: --now "$(date -u +%FT%TZ)".
now=${NOW:-2026-11-21T10:15:30Z}

# 1. Directory entries joined against a registry snapshot, then the job's own log (with the same
#    registry, so an ORCID claim in the log is named as one): events. A failure the directory
#    check found and the log reports again is one event (docs/rules.md, "One failure, one event").
#    Run from the data folder: events name their input as `directory.ndjson:LINE` wherever the
#    checkout is (their ids derive from it, so the same input gives the same ids anywhere).
(cd "$here/data" && process --job user_management --now "$now" --registry registry.ndjson \
  --log gear.log directory.ndjson) > events.ndjson

# 2. Every error (successes stay out of errors.csv), in seed 000's ten columns, written
#    atomically; the `export` record goes on.
export-csv --type error -o errors.csv < events.ndjson > export.ndjson

# 3. One summary of the run, naming the CSV it saw. Both files carry their stages' run records
#    (export.ndjson carries process's again): analyze checks every producer ended (complete: true).
cat events.ndjson export.ndjson | analyze > summary.ndjson

# 3b. The same summary as a page to look at: examples/out/report.html (self-contained, opens offline).
analyze --format html -o report.html < summary.ndjson > /dev/null

# 4. One message to support staff; with no --via it lands in ./outbox (never fails the job).
notify --to support@example.org \
  --location "$out/errors.csv" \
  --instructions "Open the CSV in a spreadsheet; each row says the action needed." \
  < summary.ndjson > notification.json

echo "pipeline: $(grep -c '"event_type"' events.ndjson) events, $(($(grep -c '' errors.csv) - 1)) error rows in $out/errors.csv" >&2
echo "pipeline: summary in $out/summary.ndjson; message: $(ls -1 outbox/*.eml 2>/dev/null | tail -n 1)" >&2
