#!/usr/bin/env bash
# Usage: bash tools/test.sh CONFIG CHECKPOINT GPUS [tools/test.py options]
exec bash "$(dirname "$0")/dist_run.sh" tools/test.py "$3" "$1" "$2" "${@:4}"
