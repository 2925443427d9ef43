#!/usr/bin/env bash
# Time checkov's CKV_AWS_79 (IMDSv1 disabled) on the template files of a cloud assembly.
#
#   bash bench/bench_checkov.sh ASSEMBLY [REPEAT]        (REPEAT defaults to 1: one run takes minutes)
#
# checkov is not a dependency of cdk-imds: it is installed once into its own virtualenv,
# bench/.venv-checkov (git-ignored), with `pip install checkov` (CHECKOV_SPEC overrides, e.g.
# CHECKOV_SPEC=checkov==3.3.30), and reused afterwards.
#
# It is pointed at the template files only (-f ASSEMBLY/*.template.json), not at the directory:
# with -d it would also parse manifest.json, tree.json and the metadata and asset files.
# --skip-download: without it checkov first tries to fetch check metadata from its SaaS platform,
# which this machine cannot reach; it only warns, but the attempt is not what is being measured.
#
# Writes bench/out/checkov-report.json (checkov's JSON report of the last run) and
# bench/out/checkov-result.json (times and counts, read by run_all.sh), and prints a summary.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
assembly="${1:?usage: bench_checkov.sh ASSEMBLY [REPEAT]}"
repeat="${2:-1}"
venv="$here/.venv-checkov"
out="$here/out"
mkdir -p "$out"

if [[ ! -x "$venv/bin/checkov" ]]; then
    echo "bench_checkov: installing ${CHECKOV_SPEC:-checkov} into $venv (once; it is large)" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "${CHECKOV_SPEC:-checkov}"
fi
version="$("$venv/bin/checkov" --version)"

shopt -s nullglob
templates=("$assembly"/*.template.json)
if [[ ${#templates[@]} -eq 0 ]]; then
    echo "bench_checkov: no *.template.json in $assembly" >&2
    exit 2
fi

command=("$venv/bin/checkov" -f "${templates[@]}" --framework cloudformation --check CKV_AWS_79
         --quiet --compact -o json --skip-download)
echo "bench_checkov: checkov $version on ${#templates[@]} templates, $repeat run(s):" >&2
echo "  checkov -f $assembly/*.template.json --framework cloudformation --check CKV_AWS_79 --quiet --compact -o json --skip-download" >&2

times=()
cpus=()
for ((i = 1; i <= repeat; i++)); do
    start=$(date +%s.%N)
    status=0
    # GNU time for the CPU time (user + system) of checkov and the worker processes it waits for.
    /usr/bin/time -f "%U %S" -o "$out/checkov-time.txt" \
        "${command[@]}" >"$out/checkov-report.json" 2>"$out/checkov-stderr.log" || status=$?
    end=$(date +%s.%N)
    # checkov exits 1 when a check failed, which this assembly has on purpose.
    if [[ $status -gt 1 ]]; then
        echo "bench_checkov: checkov exited $status; see $out/checkov-stderr.log" >&2
        exit "$status"
    fi
    seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    cpu=$(awk 'END { printf "%.2f", $1 + $2 }' "$out/checkov-time.txt")
    times+=("$seconds")
    cpus+=("$cpu")
    echo "  run $i: ${seconds} s wall, ${cpu} s CPU" >&2
done

"$venv/bin/python" - "$out/checkov-report.json" "$out/checkov-result.json" "$version" "${cpus[*]}" "${times[@]}" <<'EOF'
import collections
import json
import statistics
import sys
import time

report_path, result_path, version, cpus, *times = sys.argv[1:]
times = [float(t) for t in times]
cpus = [float(c) for c in cpus.split()]
report = json.load(open(report_path))
reports = report if isinstance(report, list) else [report]
failed = [c for r in reports for c in r["results"]["failed_checks"]]
# --quiet leaves passed checks out of the report; the summary still counts them.
passed = sum(r["summary"]["passed"] for r in reports)
summary = reports[0]["summary"]
by_type = collections.Counter(c["resource"].split(".")[0] for c in failed)
result = {
    "checkov_version": version,
    "date": time.strftime("%Y-%m-%d %H:%M"),
    "runs": len(times),
    "wall": {"median": statistics.median(times), "min": min(times)},
    "cpu": {"median": statistics.median(cpus), "min": min(cpus)},
    "failed": len(failed),
    "passed": passed,
    "resource_count": summary.get("resource_count"),
    "parsing_errors": summary.get("parsing_errors"),
    "failed_types": dict(by_type),
}
json.dump(result, open(result_path, "w"), indent=2)
print(
    f"checkov {version}: {result['wall']['median']:.2f} s median ({result['wall']['min']:.2f} min) of "
    f"wall, {result['cpu']['median']:.2f} s CPU, "
    f"{len(times)} run(s); CKV_AWS_79 failed {len(failed)}, passed {passed} "
    f"(failed by type: {dict(by_type)}; {summary.get('resource_count')} resources parsed, "
    f"{summary.get('parsing_errors')} parsing errors)"
)
EOF
