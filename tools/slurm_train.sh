#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# One task per GPU through srun (--launcher slurm); GPUS tasks in all,
# GPUS_PER_NODE on each node. On a partition without GPUs set GRES= (empty):
# the tasks then train on CPUs with gloo.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py options]" >&2; exit 2
fi
source "$(dirname "$0")/misc/launch_env.sh" slurm_train.sh
srun_tool "$1" "$2" train.py "$3" --work-dir="$4" "${@:5}"
