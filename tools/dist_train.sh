#!/usr/bin/env bash
# Usage: bash tools/dist_train.sh CONFIG GPUS [tools/train.py options]
# One process per GPU with torchrun (one per CPU worker, gloo, on a machine
# without CUDA). One node: torchrun --standalone picks a free rendezvous
# port (PORT fixes one). Several nodes: run it on each with NNODES,
# NODE_RANK, MASTER_ADDR and PORT set. CONFIG and --work-dir are relative
# to your directory; the Python is $PYTHON or the package's environment.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [tools/train.py options]" >&2; exit 2
fi
source "$(dirname "$0")/misc/launch_env.sh" dist_train.sh
torchrun_tool "$2" train.py "$1" "${@:3}"
