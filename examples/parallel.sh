#!/usr/bin/env bash
# analyze across all cores with GNU parallel: each ~1 MB block of events becomes a partial
# state, and one merge gives exactly the summary a single process would.
#   examples/parallel.sh < events.ndjson > summary.ndjson      (extra arguments go to the merge)
#   BLOCK=10M examples/parallel.sh --fail-on-errors < events.ndjson
# Flags that shape the summary (--by, --max-*, filters, --job) belong on the --partial side
# too: set them in ANALYZE_ARGS, e.g. ANALYZE_ARGS="--by center".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The installed binary when there is one, else this checkout's.
analyze=$(command -v analyze || echo "$here/../bin/analyze.js")
# shellcheck disable=SC2086
parallel --will-cite --pipe --block "${BLOCK:-1M}" $analyze --partial ${ANALYZE_ARGS:-} \
  | $analyze --merge ${ANALYZE_ARGS:-} "$@"
