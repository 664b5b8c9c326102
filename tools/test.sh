#!/usr/bin/env bash
# Usage: bash tools/test.sh CONFIG CHECKPOINT GPUS [tools/test.py options]
# The same as tools/dist_test.sh (OpenMMLab's name), kept for old commands.
exec bash "$(dirname "$0")/dist_test.sh" "$@"
