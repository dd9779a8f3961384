#!/usr/bin/env bash
# Checks fscanary's Prometheus rules and configs and the Alertmanager example
# with the real tools:
#   promtool check rules / test rules   deploy/prometheus/rules/
#   promtool check config               deploy/prometheus/prometheus*.yml
#   amtool check-config                 deploy/alertmanager/alertmanager.yml
#   amtool config routes test           where each kind of alert is sent
# Usage: check_rules.sh [SOURCE_DIR]. Exit 77 (skipped) when promtool or
# amtool is missing (Debian packages prometheus, prometheus-alertmanager).
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
promtool=${PROMTOOL:-$(command -v promtool || true)}
amtool=${AMTOOL:-$(command -v amtool || true)}
rules_dir="$root/deploy/prometheus/rules"
alertmanager_config="$root/deploy/alertmanager/alertmanager.yml"

if [[ -z "$promtool" ]]; then
  echo "SKIP: promtool not found (apt-get install prometheus)"
  exit 77
fi

echo "== promtool check rules"
"$promtool" check rules "$rules_dir"/*.rules.yml

echo "== promtool test rules"
# Relative rule_files in the tests resolve against the working directory.
(cd "$rules_dir" && "$promtool" test rules ./*.rules.test.yml)

echo "== promtool check config"
for config in "$root"/deploy/prometheus/prometheus*.yml; do
  "$promtool" check config "$config"
done

if [[ -z "$amtool" ]]; then
  echo "SKIP: amtool not found (apt-get install prometheus-alertmanager); the Prometheus checks passed"
  exit 77
fi

echo "== amtool check-config"
"$amtool" check-config "$alertmanager_config"

echo "== amtool config routes test"
expect_route() {
  local receiver=$1
  shift
  if ! "$amtool" config routes test --config.file="$alertmanager_config" \
      --verify.receivers="$receiver" "$@" >/dev/null 2>&1; then
    echo "FAIL: alert {$*} is not routed to $receiver only"
    exit 1
  fi
  echo "  {$*} -> $receiver"
}
expect_route fscanary-page alertname=FscanaryCorruptionDetected severity=critical host=web-01
expect_route fscanary-page alertname=FscanarySpoolLostRecords severity=critical host=web-01 what=findings_dropped
expect_route fscanary-page alertname=FscanaryCollectorDown severity=critical job=fscanary-collector
expect_route fscanary-ticket alertname=FscanarySpoolLostRecords severity=warning host=web-01 what=reports_dropped
expect_route fscanary-ticket alertname=FscanaryAgentSilent severity=warning host=web-01
expect_route fscanary-deadmansswitch alertname=FscanaryWatchdog severity=none
expect_route default alertname=SomethingElse severity=critical

echo "OK"
