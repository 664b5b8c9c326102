#!/usr/bin/env bash
# Usage: bash tools/train.sh CONFIG GPUS [tools/train.py options]
exec bash "$(dirname "$0")/dist_run.sh" tools/train.py "$2" "$1" "${@:3}"
