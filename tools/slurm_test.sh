#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# As slurm_train.sh (GRES= on partitions without GPUs), for tools/test.py.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py options]" >&2; exit 2
fi
source "$(dirname "$0")/misc/launch_env.sh" slurm_test.sh
srun_tool "$1" "$2" test.py "$3" "$4" "${@:5}"
