#!/usr/bin/env bash
# Usage: bash tools/train.sh CONFIG GPUS [tools/train.py options]
# The same as tools/dist_train.sh (OpenMMLab's name), kept for old commands.
exec bash "$(dirname "$0")/dist_train.sh" "$@"
