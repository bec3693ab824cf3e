#!/usr/bin/env bash
# The link batch job's calls-per-minute profile: starts one zero-config biogate
# (private Redis, in-process sandbox enforcing the upstream's 100/min, the
# gateway's default 90/min budget), submits OPS operations for the demo creator
# and prints, minute by minute, the write calls the sandbox received and the
# operations the job completed, plus how many calls the sandbox refused (must be
# 0). Takes about OPS/45 minutes with the defaults: the job runs in the lowest
# lane, which may use half of the budget. The sandbox keeps per-second counts for
# 15 minutes, so above about 650 operations the first minutes of the upstream
# profile are gone by the end; the job view's per-minute completions (printed
# last) cover the whole run. Stops only what it started.
#
#   bench/batch.sh
#   OPS=100 bench/batch.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18080}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18090}"
BIOGATE_MANAGEMENT_PORT="${BIOGATE_MANAGEMENT_PORT:-18091}"
OPS="${OPS:-500}"
WRK_BIN=""
export BIOGATE_MANAGEMENT_PORT

[[ "$OPS" =~ ^[1-9][0-9]*$ ]] && (( OPS <= 1000 )) || die "OPS must be 1-1000"
need_tools python3 curl

BIOGATE_ADMIN_TOKEN="$(random_secret)"
export BIOGATE_ADMIN_TOKEN

install_traps
make_tmp_dir
mkdir -p "$RESULTS_DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULT_FILE="$RESULTS_DIR/$STAMP-batch.txt"
start_biogate

# /admin lives on the management listener when the build has one, else on the client port.
ADMIN="http://127.0.0.1:$BIOGATE_MANAGEMENT_PORT"
if [[ "$(http_code "$ADMIN/admin/dead-letters" -H "Authorization: Bearer $BIOGATE_ADMIN_TOKEN")" != 200 ]]; then
  ADMIN="http://127.0.0.1:$BIOGATE_HTTP_PORT"
fi
SANDBOX="http://127.0.0.1:$BIOGATE_SANDBOX_PORT"

python3 - "$OPS" "$PROFILE" >"$TMP_DIR/ops.json" <<'PY'
import json, sys
n, user = int(sys.argv[1]), sys.argv[2]
ops = []
for i in range(n):
    if i % 20 == 19:
        ops.append({"op": "update", "link_id": "lnk_%s_%02d" % (user, (i // 20) % 25 + 1), "title": "Campaign %d" % i})
    else:
        ops.append({"op": "create", "title": "Campaign link %d" % i, "url": "https://example.com/campaign/%d" % i})
print(json.dumps(ops))
PY

# Taken before the submission: the first calls can land within the same second.
START="$(date +%s)"
answer="$(curl -s -X POST -H "Authorization: Bearer $BIOGATE_ADMIN_TOKEN" -H 'Content-Type: application/json' \
  --data-binary @"$TMP_DIR/ops.json" "$ADMIN/admin/creators/$PROFILE/links/batch")"
JOB="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["job"])' "$answer")" || die "batch not accepted: $answer"
log "job $JOB submitted ($OPS operations); waiting for it to finish"
while :; do
  curl -s -H "Authorization: Bearer $BIOGATE_ADMIN_TOKEN" "$ADMIN/admin/jobs/$JOB" >"$TMP_DIR/job.json"
  state="$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["state"], j["applied"], j["failed"])' "$TMP_DIR/job.json")"
  log "job: $state"
  [[ "$state" == done* ]] && break
  (( $(date +%s) - START < OPS * 4 + 300 )) || die "job not done in time"
  sleep 15
done
curl -s "$SANDBOX/__sandbox/stats" >"$TMP_DIR/stats.json"

{
  echo "biogate link batch job profile, $STAMP"
  echo "host: $(uname -srm), $(nproc) CPUs; $OPS operations for '$PROFILE'; budget 90/min (background lane: 45/min); sandbox limit 100/min"
  echo
  python3 - "$TMP_DIR/job.json" "$TMP_DIR/stats.json" "$START" <<'PY'
import json, sys, time
job, stats, start = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
per_sec = {int(k): v for k, v in stats["per_second"].items() if int(k) >= start}
minutes = {}
for s, n in per_sec.items():
    m = (s - start) // 60
    minutes[m] = minutes.get(m, 0) + n
print("%-8s %s" % ("minute", "upstream calls (all paths, as the sandbox counted them)"))
for m in sorted(minutes):
    print("%-8d %d" % (m + 1, minutes[m]))
best = 0
secs = sorted(per_sec)
for s in secs:
    best = max(best, sum(per_sec.get(t, 0) for t in range(s, s + 60)))
print()
print("most calls in any rolling 60 s: %d" % best)
print("calls refused by the sandbox (429): %d" % stats["rate_limited"])
print("job: %s, applied %d, failed %d, %s -> %s" % (job["state"], job["applied"], job["failed"], job["started"], job["finished"]))
print("operations completed per clock minute (job view): %s" % json.dumps(job["completed_per_minute"]))
PY
} | tee "$RESULT_FILE"
log "results written to $RESULT_FILE"
