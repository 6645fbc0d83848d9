#!/usr/bin/env bash
# Issue 7's GPU sweep in one go, under 5 minutes on an H100/H200: ours (`bgm bench --json`) and the
# reference (benchmarks/reference_bench.py) at fp32 + fp16, HD + 4K, three backbones, eager and
# compiled, batch 1 and 8. Writes one JSON per step, its log, steps.tsv, env.json, summary.md.
#   bash benchmarks/gpu_sweep.sh [OUTDIR]            # default $OUT, else ./gpu-sweep
#   DEVICE=cpu QUICK=1 bash benchmarks/gpu_sweep.sh /tmp/x   # CPU smoke test, tiny frames
# Steps run in priority order (goal configurations first) within BUDGET seconds; a step that
# would overrun is cut (exit 124 in steps.tsv) and later ones are skipped, so results come back.
set -uo pipefail  # no -e: a failed step is recorded and the sweep goes on

OUTDIR=${1:-${OUT:-./gpu-sweep}}
DEVICE=${DEVICE:-cuda}
QUICK=${QUICK:-0}
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # runs from a checkout without installing

if [[ $QUICK == 1 ]]; then  # tests the script, not the model: tiny frames, one backbone
  HD=64x48 UHD=96x64 ITERS=1 WARMUP=0 BIG=2 BACKBONES=${BACKBONES:-mobilenetv2}
  BUDGET=${BUDGET:-600}
else
  HD=hd UHD=4k ITERS=50 WARMUP=10 BIG=8 BACKBONES=${BACKBONES:-mobilenetv2,resnet50,resnet101}
  BUDGET=${BUDGET:-270}
fi
if [[ $DEVICE == cpu ]]; then
  HALF=bf16 COMPILE=${COMPILE:-0}  # fp16 is refused on CPU; compiling there takes minutes
else
  HALF=fp16 COMPILE=${COMPILE:-1}
fi
COMMON=(--device "$DEVICE" --iters "$ITERS" --warmup "$WARMUP" --json)

if ! "$PYTHON" -c "import torch, torchvision, typer, rich" 2> /dev/null; then
  echo "gpu_sweep: $PYTHON cannot import torch, torchvision, typer and rich: set PYTHON=" >&2
  exit 2
fi
"$PYTHON" -c "import BackgroundMattingV2" 2> /dev/null ||
  echo "gpu_sweep: backgroundmattingv2 is not installed: the reference steps will fail" >&2
mkdir -p "$OUTDIR" || exit 2
: > "$OUTDIR/steps.tsv"
START=$SECONDS

# step NAME COMMAND...: run with the time left; stdout -> NAME.json, stderr -> NAME.log
step() {
  local name=$1 left=$((BUDGET - (SECONDS - START))) began=$SECONDS rc
  shift
  if ((left < 15)); then
    printf '%s\tskipped\t0\n' "$name" >> "$OUTDIR/steps.tsv"
    return
  fi
  timeout --kill-after=10 "$left" "$@" > "$OUTDIR/$name.json" 2> "$OUTDIR/$name.log"
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - began))" >> "$OUTDIR/steps.tsv"
  echo "gpu_sweep: $name: exit $rc after $((SECONDS - began)) s" >&2
}
ours() { step "ours_$1" "$PYTHON" -m bgmcli bench "${@:2}" "${COMMON[@]}"; }
ref() { step "ref_$1" "$PYTHON" "$ROOT/benchmarks/reference_bench.py" "${@:2}" "${COMMON[@]}"; }

"$PYTHON" - > "$OUTDIR/env.json" <<'PY'
import json, platform, torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
print(json.dumps({"gpu": gpu, "torch": torch.__version__, "cuda": torch.version.cuda,
                  "cpu_threads": torch.get_num_threads(), "python": platform.python_version()}))
PY

# Priority order: ours first (the issue gives the reference's figures), goal configurations
# first, eager before compiled (compiling dominates the time); one step per precision, so that
# a failure at one precision keeps the other's rows.
GOALS=("$HD resnet50 1" "$UHD mobilenetv2 1" "$HD mobilenetv2 $BIG")
REST=("$HALF $HD mobilenetv2,resnet101" "$HALF $UHD resnet50,resnet101"
      "fp32 $HD $BACKBONES" "fp32 $UHD $BACKBONES")

eager() {  # eager IMPL: batch 1 everything, then mobilenetv2 at a large batch
  for precision in "$HALF" fp32; do
    "$1" "eager_$precision" -r "$HD,$UHD" --backbone "$BACKBONES" --precision "$precision"
  done
  "$1" "eager_${HALF}_b$BIG" -r "$HD,$UHD" --backbone mobilenetv2 --precision "$HALF" \
    --batch "$BIG"
}
compiled_goals() {  # compiled_goals IMPL: the goal configurations (the reference: batch 1)
  for config in "${GOALS[@]}"; do
    read -r res backbone batch <<< "$config"
    [[ $1 == ref && $batch != 1 ]] && continue
    "$1" "compiled_${HALF}_${res}_${backbone}_b$batch" -r "$res" --backbone "$backbone" \
      --precision "$HALF" --batch "$batch" --compile
  done
}
compiled_rest() {  # compiled_rest IMPL: the other configurations, while the budget lasts
  for config in "${REST[@]}"; do
    read -r precision res backbones <<< "$config"
    "$1" "compiled_${precision}_$res" -r "$res" --backbone "$backbones" \
      --precision "$precision" --compile
  done
}

eager ours
if [[ $COMPILE == 1 ]]; then compiled_goals ours; fi
eager ref
if [[ $COMPILE == 1 ]]; then compiled_goals ref; compiled_rest ours; compiled_rest ref; fi
echo "gpu_sweep: sweep took $((SECONDS - START)) s" >&2

"$PYTHON" "$ROOT/benchmarks/sweep_report.py" "$OUTDIR" > /dev/null
echo "gpu_sweep: results in $OUTDIR/summary.md" >&2
