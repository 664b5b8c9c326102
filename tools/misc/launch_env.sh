# Sourced by the launchers (dist_*.sh, slurm_*.sh, misc/launch.sh): picks
# the Python that runs mmsmmix and says which, on stderr; sets PY and TOOLS
# and defines torchrun_tool and srun_tool, which start a tool (or a module:
# the comparison's runs) through torchrun or srun. The one place where
# torchrun and srun command lines are made.
#   1. $PYTHON, if set;
#   2. the package's own environment: the checkout's .venv, or the venv
#      whose site-packages holds this copy of the tools (mmsmmix/.mim/tools);
#   3. python3 / python on PATH.
# The chosen Python must find torch and mmsmmix. Run from a checkout, the
# checkout's package comes first on PYTHONPATH. Paths given to the launchers
# stay relative to the caller's directory: nothing here changes directory.
LAUNCHER=${1:-launcher}
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
_root=$(dirname "$TOOLS")
PY=
if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON; _why='$PYTHON'
elif [ -x "$_root/.venv/bin/python" ]; then
    PY=$_root/.venv/bin/python; _why="the checkout's .venv"
else
    case $TOOLS in
    */lib/python*/site-packages/mmsmmix/.mim/tools)
        _prefix=${TOOLS%/lib/python*/site-packages/mmsmmix/.mim/tools}
        if [ -x "$_prefix/bin/python" ]; then
            PY=$_prefix/bin/python; _why='the environment mmsmmix is installed in'
        fi ;;
    esac
fi
if [ -z "$PY" ]; then
    PY=$(command -v python3 || command -v python || true); _why='PATH'
fi
if [ -f "$_root/mmsmmix/__init__.py" ]; then
    export PYTHONPATH="$_root${PYTHONPATH:+:$PYTHONPATH}"
fi
_missing=$([ -n "$PY" ] && "$PY" -c 'import importlib.util as u
print(" ".join(m for m in ("torch", "mmengine", "mmpretrain", "mmsmmix") if u.find_spec(m) is None))' 2>/dev/null || echo python)
if [ -n "$_missing" ]; then
    echo "$LAUNCHER: ${PY:-no python} (from $_why) cannot import: $_missing." \
        "Activate the environment mmsmmix is installed in, or set PYTHON=/path/to/python." >&2
    exit 1
fi
echo "$LAUNCHER: using $PY (from $_why)" >&2

# What to run: a tool of tools/ (TOOL.py) or a module (-m MODULE); sets
# TARGET (an array) and SHIFT (how many arguments it took).
_target() {
    if [ "$1" = -m ]; then
        TARGET=(-m "$2"); SHIFT=2
    else
        TARGET=("$TOOLS/$1"); SHIFT=1
    fi
}

# torchrun one process per GPU. One node without PORT: --standalone, torch
# picks a free rendezvous port (two launches cannot race for one); several
# nodes (NNODES, NODE_RANK, MASTER_ADDR, PORT) or a given PORT: that
# rendezvous. Usage: torchrun_tool NPROC TOOL.py|-m MODULE [args]
torchrun_tool() {
    local nproc=$1
    shift
    _target "$@"
    shift "$SHIFT"
    local rdzv=(--standalone)
    if [ "${NNODES:-1}" != 1 ] || [ -n "${PORT:-}" ]; then
        rdzv=(--nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}"
              --master_addr="${MASTER_ADDR:-127.0.0.1}"
              --master_port="${PORT:-29500}")
    fi
    exec "$PY" -m torch.distributed.run "${rdzv[@]}" \
        --nproc_per_node="$nproc" "${TARGET[@]}" "$@" --launcher pytorch
}

# srun one task per GPU (GPUS, GPUS_PER_NODE, CPUS_PER_TASK, GRES,
# SRUN_ARGS). Usage: srun_tool PARTITION JOB_NAME TOOL.py|-m MODULE [args]
srun_tool() {
    local partition=$1 job_name=$2
    shift 2
    _target "$@"
    shift "$SHIFT"
    local gpus_per_node=${GPUS_PER_NODE:-8}
    local gres=${GRES-gpu:$gpus_per_node}
    # Each task's torch threads: its CPUs (torchrun sets 1 per process;
    # without this every rank would use all the node's cores).
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-${CPUS_PER_TASK:-5}}
    # SRUN_ARGS is split into words on purpose, as in MMPretrain's scripts.
    # shellcheck disable=SC2086
    exec srun -p "$partition" --job-name="$job_name" ${gres:+--gres="$gres"} \
        --ntasks="${GPUS:-8}" --ntasks-per-node="$gpus_per_node" \
        --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 \
        ${SRUN_ARGS:-} "$PY" -u "${TARGET[@]}" "$@" --launcher=slurm
}
