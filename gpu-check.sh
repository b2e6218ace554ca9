#!/usr/bin/env bash
# Checks foley4j's GPU backends on this machine and prints one table (docs/gpu.md).
#
#   ./gpu-check.sh            on a machine with an NVIDIA GPU, CUDA 12, cuDNN 9 (TensorRT 10 optional):
#                             builds with -Pgpu (downloads onnxruntime_gpu, 445.7 MB, once), runs the
#                             foley-gpu-cuda tests against it, prints `foley gpu probe`, runs the reference
#                             model on cpu, cuda and tensorrt and compares each GPU run's audio with the CPU's
#   ./gpu-check.sh --dry-run  on a CPU-only machine: everything short of the device (default build, the
#                             foley-gpu-cuda tests, the probe's statuses, --backend cuda exits 2 with one
#                             line, --fallback cpu warns once and gives the CPU's audio)
#
# Exit status 0 when every row is ok. Needs Java 17, Maven and /usr/bin/python3 (standard library only).
set -uo pipefail
cd "$(dirname "$0")"

DRY=0
case "${1:-}" in
  --dry-run) DRY=1 ;;
  "") ;;
  *) echo "usage: $0 [--dry-run]" >&2; exit 64 ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/foley-gpu-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROWS=()
FAILED=0
row() { # name, ok|FAIL|skip, details
  ROWS+=("$(printf '%-40s %-5s %s' "$1" "$2" "$3")")
  [ "$2" = FAIL ] && FAILED=1
  return 0
}

# the largest absolute difference between two float WAVs written by foley (44-byte header)
maxdiff() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import array, sys
def samples(p):
    b = open(p, 'rb').read()
    assert b[:4] == b'RIFF' and int.from_bytes(b[20:22], 'little') == 3, p + ' is not a float WAV'
    a = array.array('f'); a.frombytes(b[44:]); return a
x, y = samples(sys.argv[1]), samples(sys.argv[2])
if len(x) != len(y):
    print('length %d vs %d' % (len(x), len(y))); sys.exit(1)
print('%.3g' % max((abs(p - q) for p, q in zip(x, y)), default=0.0))
EOF
}

if [ $DRY = 1 ]; then
  PROFILE=()
  JAR=foley-cli/target/foley.jar
  BENCH_JAR=foley-bench/target/foley-bench.jar
else
  PROFILE=(-Pgpu)
  JAR=foley-cli/target/foley-gpu.jar
  BENCH_JAR=foley-bench/target/foley-bench-gpu.jar
fi

t0=$(date +%s)
if mvn -B -q "${PROFILE[@]}" -DskipTests package -pl foley-cli,foley-bench -am >"$WORK/build.log" 2>&1; then
  row "build ${PROFILE[*]:-(default)}" ok "$JAR, $(($(date +%s) - t0)) s"
else
  row "build ${PROFILE[*]:-(default)}" FAIL "see below"; tail -30 "$WORK/build.log"
  printf '%s\n' "${ROWS[@]}"; exit 1
fi

t0=$(date +%s)
if mvn -B -q "${PROFILE[@]}" test -pl foley-gpu-cuda -am -Dtest='io.foley4j.gpu.**' -Dsurefire.failIfNoSpecifiedTests=false \
    >"$WORK/test.log" 2>&1; then
  n=$(cat foley-gpu-cuda/target/surefire-reports/TEST-*.xml | grep -o 'testsuite [^>]*tests="[0-9]*"' \
    | grep -o 'tests="[0-9]*"' | grep -o '[0-9]*' | awk '{s += $1} END {print s}')
  row "foley-gpu-cuda tests" ok "$n tests, $(($(date +%s) - t0)) s"
  if [ $DRY = 0 ]; then # the gpu-tagged tests must have run, not skipped
    rep=foley-gpu-cuda/target/surefire-reports/TEST-io.foley4j.gpu.RealGpuTest.xml
    if grep -q 'skipped="0"' "$rep" 2>/dev/null; then
      row "gpu-tagged tests (RealGpuTest)" ok "$(grep -ho 'max |gpu - cpu| = [0-9.eE-]*' \
        foley-gpu-cuda/target/surefire-reports/io.foley4j.gpu.RealGpuTest-output.txt 2>/dev/null | paste -sd' ')"
    else
      row "gpu-tagged tests (RealGpuTest)" FAIL "skipped: the probe found no usable CUDA or TensorRT"
    fi
  fi
else
  row "foley-gpu-cuda tests" FAIL "see below"; grep -E 'FAIL|ERROR\]' "$WORK/test.log" | head -20
fi

java -jar "$JAR" gpu probe >"$WORK/probe.txt" 2>&1
probe_rc=$?
cat "$WORK/probe.txt"
if [ $DRY = 1 ]; then
  if [ $probe_rc = 3 ] && grep -q '^nvml .*LIBRARY_NOT_FOUND' "$WORK/probe.txt" \
      && grep -q '^onnxruntime-providers .*LIBRARY_NOT_FOUND' "$WORK/probe.txt"; then
    row "gpu probe (no driver)" ok "exit 3, statuses LIBRARY_NOT_FOUND"
  elif [ $probe_rc = 0 ]; then
    row "gpu probe" ok "a GPU is usable here: run without --dry-run"
  else
    row "gpu probe" FAIL "exit $probe_rc"
  fi
else
  [ $probe_rc = 0 ] && row "gpu probe" ok "$(grep -m1 '^device 0' "$WORK/probe.txt")" \
    || row "gpu probe" FAIL "exit $probe_rc: the CUDA backend cannot run here (table above)"
fi

java -jar "$JAR" demo --out-dir "$WORK" --seconds 4 >"$WORK/demo.log" 2>&1 || { row demo FAIL "$(tail -1 "$WORK/demo.log")"; }
VIDEO="$WORK/demo-input.mp4"
gen() { # name, extra args...; writes $WORK/<name>.wav, prints seconds
  local name=$1; shift
  local s e
  s=$(date +%s.%N)
  java -jar "$JAR" generate --video "$VIDEO" --prompt "glass clink" --seed 7 --steps 10 --float --progress none \
    --out "$WORK/$name.wav" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  e=$(date +%s.%N)
  echo "$rc $(/usr/bin/python3 -c "print('%.1f' % ($e - $s))")"
}

read -r rc secs < <(gen cpu --backend cpu)
[ "$rc" = 0 ] && row "generate --backend cpu" ok "$secs s (4 s clip, 10 steps)" || row "generate --backend cpu" FAIL "exit $rc"

if [ $DRY = 1 ]; then
  read -r rc secs < <(gen cuda --backend cuda)
  lines=$(grep -cv '^\s*$' "$WORK/cuda.err")
  if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -q '^foley: CUDA backend cannot run on device 0: ' "$WORK/cuda.err"; then
    row "generate --backend cuda" ok "exit 2, one line: $(cut -c1-70 "$WORK/cuda.err")..."
  else
    row "generate --backend cuda" FAIL "exit $rc, $lines lines: $(head -c 200 "$WORK/cuda.err")"
  fi
  read -r rc secs < <(gen fallback --backend cuda --fallback cpu)
  warnings=$(grep -c '^WARNING: running on the CPU instead of CUDA:0' "$WORK/fallback.err")
  if [ "$rc" = 0 ] && [ "$warnings" = 1 ]; then
    d=$(maxdiff "$WORK/cpu.wav" "$WORK/fallback.wav")
    [ "$d" = 0 ] && row "generate --backend cuda --fallback cpu" ok "one warning, audio = cpu (max diff $d)" \
      || row "generate --backend cuda --fallback cpu" FAIL "audio differs from cpu: $d"
  else
    row "generate --backend cuda --fallback cpu" FAIL "exit $rc, $warnings warnings"
  fi
else
  for b in cuda tensorrt; do
    read -r rc secs < <(gen "$b" --backend "$b")
    if [ "$rc" = 0 ]; then
      row "generate --backend $b" ok "$secs s, max |audio - cpu| = $(maxdiff "$WORK/cpu.wav" "$WORK/$b.wav")"
    else
      row "generate --backend $b" FAIL "exit $rc: $(head -c 300 "$WORK/$b.err")"
    fi
  done
  # TensorRT's second start loads its engines from the cache
  read -r rc secs < <(gen tensorrt2 --backend tensorrt)
  [ "$rc" = 0 ] && row "generate --backend tensorrt (cached)" ok "$secs s" || row "generate --backend tensorrt (cached)" FAIL "exit $rc"
fi

# benchmarks: bench serve (engine vs raw batched ORT at concurrency 1/4/16) and bench coldstart on the device;
# in the dry run the same commands, tiny, on the CPU fallback, to check their wiring
bench() { # name, args...: runs foley bench, keeps its output, adds a row with its last line
  local name=$1; shift
  if java -jar "$BENCH_JAR" bench "$@" >"$WORK/$name.txt" 2>&1; then
    row "bench $name" ok "$(grep -v '^\s*$' "$WORK/$name.txt" | tail -1 | cut -c1-90) (all: $WORK/$name.txt)"
  else
    row "bench $name" FAIL "$(tail -1 "$WORK/$name.txt" | cut -c1-120)"
  fi
}
if [ $DRY = 1 ]; then
  bench serve serve --backend cuda --fallback cpu --concurrency 1,2 --requests 2 --steps 1 --seconds 1 --long-seconds 2 \
    --denoiser-width 64 --denoiser-depth 1
  bench coldstart coldstart --seconds 1 --steps 1 --requests 1 --denoiser-width 64 --denoiser-depth 1 --warm-up full
else
  bench serve serve --backend cuda --concurrency 1,4,16 --requests 16 --steps 25
  bench coldstart coldstart --backend cuda --warm-up full
  cat "$WORK/serve.txt" "$WORK/coldstart.txt"
fi

echo
printf '%-40s %-5s %s\n' check result details
printf '%s\n' "${ROWS[@]}"
exit $FAILED
