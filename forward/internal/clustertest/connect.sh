#!/usr/bin/env bash
# connect INSTANCE: stands in for the gke-cloudsql-access pod's connection script, which starts
# Cloud SQL Auth Proxy v2 for INSTANCE unless one is running. The "proxy" lives in the Go test
# process that started this cluster (forward/internal/clustertest); this script asks it over a loopback
# control port. KWOK runs it on the host for `kubectl exec`. Exit 0 when the proxy runs.
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: $0 INSTANCE" >&2
	exit 2
fi
exec 3<>/dev/tcp/127.0.0.1/@CONTROL_PORT@
printf 'connect %s\n' "$1" >&3
IFS=' ' read -r status message <&3
if [ "$status" != ok ]; then
	echo "$message" >&2
	exit 1
fi
echo "$message"
