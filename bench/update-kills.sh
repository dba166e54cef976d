#!/usr/bin/env bash
# Kills the gateway (launcher and hearthd) at random points of an update install, N times
# (default 500), restarting it each time, against the real release binaries; fails if the
# device ever does not come back on a verified slot. CI runs the same test with 50 trials.
#   bench/update-kills.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test ./e2e -count=1 -run '^TestUpdateSurvivesKills$' -kill-trials "${1:-500}" -timeout 90m -v
