#!/bin/bash
# Every GPU measurement of issue 5 in one run, for a device session (see Benchmarks/README.md, "On a GPU").
#
# Here, with the Swift toolchain:   ../shared/device/prepare.sh autoencoder-bench autoencoder
# Then on the GPU machine, from the project root with .devcarry/ beside it:
#                                   bash Benchmarks/gpu_session.sh "$OUT"
# Writes devices.txt (with the driver's registers per kernel), kernels.jsonl (FP32, then TF32 rows, then the
# driver's per-kernel resources), epochs.jsonl, train.txt and plans.jsonl into the folder
# given, and prints them. Each command has a time limit, so one slow or failing step cannot take the others' time,
# and none starts after BUDGET seconds (default 500), so the script ends inside one device call.
set -u
out="${1:?usage: gpu_session.sh OUTPUT_FOLDER}"
mkdir -p "$out"
device="${DEVICE:-opencl:0}"
budget="${BUDGET:-500}"
bench() {
    if (( SECONDS > budget )); then echo "skipped (budget spent): $*" >&2; return 0; fi
    timeout "$1" bash .devcarry/run.sh autoencoder-bench "${@:2}"
}

timeout 120 bash .devcarry/run.sh autoencoder devices --verbose > "$out/devices.txt" 2>&1
cat "$out/devices.txt"

# Kernels: every primitive checked against the CPU backend, then timed (4096³ included on a GPU).
bench 150 kernels --device "$device" --json > "$out/kernels.jsonl" 2> "$out/kernels.err"
bench 90 kernels --device "$device" --precision tf32 --json 2>> "$out/kernels.err" | grep '"tf32"' >> "$out/kernels.jsonl"

# Epochs of the reference workloads, FP32 then TF32.
: > "$out/epochs.jsonl"
for precision in fp32 tf32; do
    for run in "mlp-vae 128" "mlp-vae 1024" "conv-vae 128" "vq-vae 128" "cae 128"; do
        set -- $run
        bench 60 epoch --workload "$1" --batch-size "$2" --device "$device" --epochs 3 --precision "$precision" --json \
            2>> "$out/epochs.err" | tail -1 >> "$out/epochs.jsonl"
    done
done

# One real training run on the bundled digits, end to end on the GPU.
timeout 90 bash .devcarry/run.sh autoencoder train --device "$device" --epochs 20 --out "$out/run" --json \
    > "$out/train.txt" 2>&1

# Data to tune the product plans (GEMMPlan) and tiles (GEMMTiling) from: every plan with each tiling at the
# reference shapes (cpu is 128x128 with 8x8 per work item, the heavier variant the nvidia preset replaced: ptxas
# gives it ~197 registers, one group per SM), then the batch-128 and batch-1024 MLP epochs under the plans a small
# product could take.
: > "$out/plans.jsonl"
for tiling in nvidia gpu cpu; do
    for plan in simple blocked split:2 split:4 split:8 split:16; do
        AUTOENCODERKIT_GEMM_TILING=$tiling AUTOENCODERKIT_GEMM_PLAN=$plan bench 40 kernels --device "$device" --only gemm \
            --json 2>> "$out/plans.err" | sed "s/^{/{\"tiling\": \"$tiling\", \"plan\": \"$plan\", /" >> "$out/plans.jsonl"
    done
done
for tiling in nvidia gpu; do
    for plan in simple split:4; do
        for batch in 128 1024; do
            AUTOENCODERKIT_GEMM_TILING=$tiling AUTOENCODERKIT_GEMM_PLAN=$plan bench 40 epoch --workload mlp-vae \
                --batch-size $batch --device "$device" --epochs 2 --json 2>> "$out/plans.err" | tail -1 \
                | sed "s/^{/{\"tiling\": \"$tiling\", \"plan\": \"$plan\", /" >> "$out/plans.jsonl"
        done
    done
done

cat "$out/kernels.jsonl" "$out/epochs.jsonl" "$out/train.txt" "$out/plans.jsonl"
tail -n 5 "$out/kernels.err" "$out/epochs.err" "$out/plans.err"
