#!/usr/bin/env bash
# The whole benchmark: generate the assembly (once), time cdk-imds against the json-load floor, time
# checkov's CKV_AWS_79 on the same templates, compare what each found, print a markdown table.
#
#   bash bench/run_all.sh                  (from anywhere; about 5 minutes, most of it checkov)
#
# Environment: REPEAT (cdk-imds and floor runs, default 5), CHECKOV_REPEAT (default 1),
# SKIP_CHECKOV=1 (do not run checkov; the table then shows the last checkov result, if any, with its
# date), PYTHON (default .venv/bin/python of the repository).
# AUDIT=1 also runs bench/bench_audit.py (cdk-imds audit on a local moto_server seeded with 1,000
# groups and 1,000 launch templates; about 5 minutes), AUDIT_REPEAT runs of it (default 3), and
# prints its tables last.
# Everything it writes goes to bench/out/ (git-ignored); checkov's virtualenv is bench/.venv-checkov.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
assembly=bench/out/assembly
mkdir -p bench/out

if [[ ! -f "$assembly/manifest.json" ]]; then
    "$python" bench/gen_assembly.py "$assembly" --stacks 100 --resources 20000 --seed 1
fi

"$python" bench/bench_check.py "$assembly" --repeat "${REPEAT:-5}" --what-if \
    --json bench/out/check-result.json

# The report itself, for the comparison with checkov (exit 1 means "found errors").
status=0
"$python" -m cdk_imds check "$assembly" --format json >bench/out/cdk-imds-report.json || status=$?
if [[ $status -gt 1 ]]; then
    echo "run_all: cdk-imds check exited $status" >&2
    exit "$status"
fi

if [[ "${SKIP_CHECKOV:-0}" != 1 ]]; then
    bash bench/bench_checkov.sh "$assembly" "${CHECKOV_REPEAT:-1}"
    echo
    "$python" bench/compare_findings.py bench/out/cdk-imds-report.json bench/out/checkov-report.json "$assembly"
fi

echo
"$python" - <<'EOF'
import json
import os

check = json.load(open("bench/out/check-result.json"))
meta, results = check["meta"], check["results"]
checkov = json.load(open("bench/out/checkov-result.json")) if os.path.exists("bench/out/checkov-result.json") else None
floor = results["floor"]


def row(what, wall, inner, found, cpu=None):
    wall_text = f"{wall['median']:.2f} s ({wall['min']:.2f})"
    wall_ratio = f"{wall['median'] / floor['wall']['median']:.2f}x ({wall['min'] / floor['wall']['min']:.2f}x)"
    if cpu:
        cpu_text = f"{cpu['median']:.2f} s, {cpu['median'] / floor['cpu']['median']:.2f}x"
    else:
        cpu_text = "n/a"
    if inner:
        inner_text = f"{inner['median']:.2f} s ({inner['min']:.2f})"
        inner_ratio = f"{inner['median'] / floor['seconds']['median']:.2f}x ({inner['min'] / floor['seconds']['min']:.2f}x)"
    else:
        inner_text = inner_ratio = "n/a"
    return f"| {what} | {wall_text} | {wall_ratio} | {cpu_text} | {inner_text} | {inner_ratio} | {found} |"


cli, chk = results["cli"], results["check"]
found = f"{cli['findings']} findings ({cli['errors']} errors, {cli['warnings']} warnings)"
print(
    f"{meta['date']}, Python {meta['python']}, {meta['cpus']} CPUs; assembly {floor['templates']} stacks, "
    f"{floor['resources']} resources; median (min) of {meta['repeat']} runs"
    + (f"; checkov {checkov['checkov_version']}, {checkov['runs']} run(s)" if checkov else "")
)
print()
print("| what | process wall, median (min) | vs floor, median (min) | process CPU, vs floor (medians) "
      "| in-process, median (min) | vs floor, median (min) | found |")
print("| --- | --- | --- | --- | --- | --- | --- |")
print(row("floor: json.load manifest + 100 templates", floor["wall"], floor["seconds"], f"{floor['files']} files", floor["cpu"]))
keep = results["floor-keep"]
print(row("floor-keep: the same, every parsed file kept in memory", keep["wall"], keep["seconds"], "-", keep["cpu"]))
print(row("cdk-imds load only (`load_paths`)", results["load"]["wall"], results["load"]["seconds"], "-", results["load"]["cpu"]))
print(row("cdk-imds load + check (`load_paths` + `check_sources`)", chk["wall"], chk["seconds"], f"{chk['findings']} findings", chk["cpu"]))
print(row("**cdk-imds CLI** `python -m cdk_imds check ASSEMBLY --format json`", cli["wall"], None, found, cli["cpu"]))
if "check-gc" in results:
    gc_run = results["check-gc"]
    print(row("load + check as the CLI loads (GC off while loading, then `gc.freeze()`)", gc_run["wall"], gc_run["seconds"], f"{gc_run['findings']} findings", gc_run["cpu"]))
if checkov:
    print(row(
        "checkov `-f *.template.json --framework cloudformation --check CKV_AWS_79`"
        + (f" (run {checkov['date']})" if os.environ.get("SKIP_CHECKOV") == "1" and "date" in checkov else ""),
        checkov["wall"], None,
        f"{checkov['failed']} failed, {checkov['passed']} passed (launch templates only)",
        checkov.get("cpu"),
    ))
EOF

if [[ "${AUDIT:-0}" == 1 ]]; then
    echo
    "$python" bench/bench_audit.py --repeat "${AUDIT_REPEAT:-3}" --json bench/out/audit-result.json
fi
