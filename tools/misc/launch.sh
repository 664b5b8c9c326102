#!/usr/bin/env bash
# Usage: bash tools/misc/launch.sh torchrun NPROC TOOL.py|-m MODULE [args]
#        bash tools/misc/launch.sh srun PARTITION JOB_NAME TOOL.py|-m MODULE [args]
# The launchers' torchrun / srun lines (misc/launch_env.sh) for any tool or
# module: what the comparison starts its multi-process runs with. The same
# environment variables as dist_train.sh and slurm_train.sh.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 torchrun NPROC TOOL.py|-m MODULE [args]" >&2
    echo "       $0 srun PARTITION JOB_NAME TOOL.py|-m MODULE [args]" >&2
    exit 2
fi
mode=$1
shift
source "$(dirname "$0")/launch_env.sh" "${LAUNCH_NAME:-launch.sh}"
case $mode in
torchrun) torchrun_tool "$@" ;;
srun) srun_tool "$@" ;;
*) echo "launch.sh: unknown mode '$mode' (torchrun or srun)" >&2; exit 2 ;;
esac
