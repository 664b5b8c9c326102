#!/usr/bin/env bash
# Build mmcv 2.1.0 with its compiled ops for the venv's torch, once, into a
# cache folder outside the repo (no wheel of mmcv 2.x exists for torch 2.14).
# mmsegmentation and mmdetection need the ops; the classification stack
# stays on mmcv-lite. About 10 minutes on 2 cores; CPU ops only unless CUDA
# is available (then mmcv's setup.py also compiles the CUDA kernels).
#
# Usage: tools/misc/build_mmcv.sh WHEEL_DIR   (PY=.venv/bin/python by default)
set -euo pipefail
out=${1:?usage: build_mmcv.sh WHEEL_DIR}
py=${PY:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$py" -m pip download --no-deps --no-build-isolation --no-binary :all: \
    mmcv==2.1.0 -d "$work"
tar xzf "$work/mmcv-2.1.0.tar.gz" -C "$work"
# torch 2.14's headers need C++20; mmcv 2.1.0 asks for C++17.
sed -i "s/'-std=c++17'/'-std=c++20'/g" "$work/mmcv-2.1.0/setup.py"
MAX_JOBS=${MAX_JOBS:-2} MMCV_WITH_OPS=1 "$py" -m pip wheel \
    --no-build-isolation --no-deps "$work/mmcv-2.1.0" -w "$work/wheels"
mkdir -p "$out"
# Move into place last: an interrupted build leaves no half wheel behind.
for wheel in "$work"/wheels/mmcv-2.1.0-*.whl; do
    mv "$wheel" "$out/$(basename "$wheel").part"
    mv "$out/$(basename "$wheel").part" "$out/$(basename "$wheel")"
    echo "built $out/$(basename "$wheel")"
done
