#!/bin/bash
# SPDX-License-Identifier: MIT
# Sets up what is missing (scripts/setup.sh), builds portcullis twice
# (release, and ASan+UBSan) plus the libFuzzer targets (clang), then runs
# every test: the cmocka unit tests and the lab integration tests against
# both builds, and each fuzz target for a bounded time. Ends with
# "N passed, N failed"; exits non-zero if anything failed.
#
# PC_FUZZ_SECONDS (default 20) bounds each fuzz target.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"
PY=/usr/bin/python3 # Debian's, with python3-pytest and python3-scapy
RESULTS=$ROOT/build/test-results
FUZZ_SECONDS=${PC_FUZZ_SECONDS:-20}

bash scripts/setup.sh || {
	echo "test: set-up failed" >&2
	exit 1
}

build() {
	local dir=$1
	shift
	pc_drop_stale_build "$dir"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log" >&2
			return 1
		}
	fi
	ninja -C "$dir" >"$dir.build.log" 2>&1 || {
		cat "$dir.build.log" >&2
		return 1
	}
}

mkdir -p build
build build/release || exit 1
build build/asan -Db_sanitize=address,undefined -Dbuildtype=debug || exit 1
CC=clang build build/fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbuildtype=debug || exit 1

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# A failure that produced no JUnit report of its own (a crash, a build
# that would not start) still counts.
record_failure() {
	local name=$1 msg=$2
	cat >"$RESULTS/$name.xml" <<XML
<testsuite name="$name" tests="1" failures="1"><testcase classname="$name" name="$name"><failure message="$msg"/></testcase></testsuite>
XML
}

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp
export ASAN_OPTIONS=detect_leaks=1

for variant in release asan; do
	echo "== unit tests ($variant)"
	CMOCKA_MESSAGE_OUTPUT=xml CMOCKA_XML_FILE="$RESULTS/$variant-unit-%g.xml" \
		meson test -C "build/$variant" --suite unit --print-errorlogs
	rc=$?
	if [ $rc -ne 0 ]; then
		record_failure "$variant-unit-runner" "meson test exited $rc"
	fi

	echo "== integration tests ($variant)"
	PC_BUILD="$ROOT/build/$variant" "$PY" -m pytest tests/integration -q \
		-p no:cacheprovider -o junit_suite_name="$variant-integration" \
		--junitxml="$RESULTS/$variant-integration.xml"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
		record_failure "$variant-integration-runner" "pytest exited $rc"
	fi
done

echo "== fuzz targets (${FUZZ_SECONDS}s each)"
corpus=$ROOT/build/fuzz/corpus
for target in eth_input tcp_input http verify tls_input tls_client tls_hello ticket cli alog metrics_http \
	http_proxy; do
	"$PY" tests/fuzz/seeds.py "$corpus/$target-seeds" "$target"
	mkdir -p "$corpus/$target"
	if "build/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$FUZZ_SECONDS" \
		-print_final_stats=1 -artifact_prefix="$RESULTS/fuzz_$target-" \
		"$corpus/$target" "$corpus/$target-seeds" >"$RESULTS/fuzz_$target.log" 2>&1; then
		cat >"$RESULTS/fuzz-$target.xml" <<XML
<testsuite name="fuzz" tests="1" failures="0"><testcase classname="fuzz" name="$target"/></testsuite>
XML
		grep -E "^Done|executed_units" "$RESULTS/fuzz_$target.log"
	else
		tail -40 "$RESULTS/fuzz_$target.log"
		record_failure "fuzz-$target" "crash: see build/test-results/fuzz_$target.log"
	fi
done

"$PY" scripts/test_summary.py "$RESULTS"
