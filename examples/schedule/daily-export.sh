#!/bin/bash
# The daily export, as cron or a systemd timer runs it (seed 003, task 27):
#   process → export-csv -o errors-YYYY-MM-DD.csv → analyze → notify (the CSV attached)
# One run at a time: an overlapping run (a slow day, a manual run during the timer's) finds the
# lock taken and does nothing. Leaves in $EXPORT_DIR: errors-DAY.csv, summary-DAY.json,
# notification-DAY.json, audit.ndjson (one line per export) and outbox/ (when no NOTIFY_VIA).
set -euo pipefail

# ---- configuration: edit here, or set these in the crontab / the service's Environment= ----
# cron's PATH is /usr/bin:/bin, so say where node (>= 20) is: Debian's nodejs is /usr/bin/node;
# with nvm or a tarball it is e.g. /home/batch/.nvm/versions/node/v20.19.0/bin/node.
NODE=${NODE:-/usr/bin/node}
# The batch-events checkout or install (the folder that holds bin/): by default the one this
# script sits in.
BATCH_EVENTS=${BATCH_EVENTS:-$(cd "$(dirname "$0")/../.." && pwd)}
EXPORT_DIR=${EXPORT_DIR:-/var/lib/batch-events/exports}
JOB=${JOB:-user_management}
# The job's inputs: its directory entries, the registry snapshot and its log (example data by default).
DIRECTORY=${DIRECTORY:-$BATCH_EVENTS/examples/data/directory.ndjson}
REGISTRY=${REGISTRY:-$BATCH_EVENTS/examples/data/registry.ndjson}
GEAR_LOG=${GEAR_LOG:-$BATCH_EVENTS/examples/data/gear.log}
NOTIFY_TO=${NOTIFY_TO:-support@example.org}
# Optional: export at a privacy level (see docs/privacy.md), e.g. PRIVACY_POLICY=/etc/batch-events/policy.json
PRIVACY_POLICY=${PRIVACY_POLICY:-}
PRIVACY_LEVEL=${PRIVACY_LEVEL:-internal}
# Delivery: NOTIFY_VIA=smtp://mail.example.org:587 (or sendmail, https://…) as notify reads it;
# unset, messages are left as .eml files in $NOTIFY_OUTBOX.
export NOTIFY_OUTBOX=${NOTIFY_OUTBOX:-$EXPORT_DIR/outbox}
# ---- end of configuration ----

say() { echo "daily-export: $*" >&2; }

if [ ! -x "$NODE" ]; then
  say "node not found at $NODE; set NODE=/path/to/node (>= 20) at the top of $0 or in the crontab/service"
  exit 1
fi
if ! "$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  say "$NODE is node $("$NODE" --version), batch-events needs node >= 20"
  exit 1
fi
# The launchers in bin/ find node through PATH (their #! line runs env): put this one first.
PATH="$(dirname "$NODE"):$PATH"
export PATH
command -v flock >/dev/null || { say "flock(1) not found (Debian: apt-get install util-linux)"; exit 1; }

# The exports hold people's addresses: not readable by other users.
umask 027
mkdir -p "$EXPORT_DIR"
cd "$EXPORT_DIR"

# One run at a time. The lock is held by this shell's fd 9 and ends with it (also on kill -9).
exec 9>>"$EXPORT_DIR/.daily-export.lock"
if ! flock --nonblock 9; then
  say "another run holds $EXPORT_DIR/.daily-export.lock; this run does nothing"
  exit 0
fi

bin="$BATCH_EVENTS/bin"
day=$(date -u +%F)
csv="$EXPORT_DIR/errors-$day.csv"
privacy=()
if [ -n "$PRIVACY_POLICY" ]; then privacy=(--privacy-policy "$PRIVACY_POLICY" --privacy-level "$PRIVACY_LEVEL"); fi

# One process run reads the directory and then the gear log, with the same registry and clock
# (--now: the run's start, for entries that carry no time): a failure both report is one event.
"$bin/process.js" --job "$JOB" --now "$(date -u +%FT%TZ)" --registry "$REGISTRY" --log "$GEAR_LOG" "$DIRECTORY" \
  | "$bin/export-csv.js" --type error -o "$csv" --pass-through --audit-log "$EXPORT_DIR/audit.ndjson" "${privacy[@]}" \
  | "$bin/analyze.js" \
  | tee "$EXPORT_DIR/summary-$day.json" \
  | "$bin/notify.js" --to "$NOTIFY_TO" --attach-exports \
      --location "$csv on $(hostname)" \
      --instructions "The CSV is attached; each row says the action needed." \
  > "$EXPORT_DIR/notification-$day.json"

say "$(($(grep -c '' "$csv") - 1)) error rows in $csv; the notification record is in $EXPORT_DIR/notification-$day.json"
