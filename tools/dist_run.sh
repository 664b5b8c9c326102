#!/usr/bin/env bash
# Usage: bash tools/dist_run.sh SCRIPT GPUS [script args]
# Starts one process per GPU with torchrun (on CPU-only machines, one per
# worker with --cfg-options env_cfg.dist_cfg.backend=gloo).
set -euo pipefail
SCRIPT=$1
GPUS=$2
cd "$(dirname "$0")/.."
PYTHONPATH="$(pwd):${PYTHONPATH:-}" exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$GPUS" "$SCRIPT" "${@:3}" --launcher pytorch
