#!/usr/bin/env bash
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py options]
# As dist_train.sh (NNODES, NODE_RANK, MASTER_ADDR, PORT), for tools/test.py.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [tools/test.py options]" >&2; exit 2
fi
source "$(dirname "$0")/misc/launch_env.sh" dist_test.sh
torchrun_tool "$3" test.py "$1" "$2" "${@:4}"
