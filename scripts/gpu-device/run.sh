#!/usr/bin/env bash
# On the device machine (NVIDIA GPU, Vulkan driver, PyTorch, no Node, no network), from the
# repository root with .device/ carried (scripts/gpu-device/pack.sh made it): bench:gpu on
# the GPU through WebGPU for the three sizes, wasm on the smallest, PyTorch eager for the
# ratio, then the 50M dense model without the fused kernels and in bf16. Writes
# bench-gpu*.json (and the log) to $OUT, or to .device/out without it. Keeps
# inside ten minutes with the defaults before the extra runs (EXTRA=0 skips those; their
# time on a real GPU is not yet measured); SIZES, STEPS, BATCH and CONTEXT change them.
set -euo pipefail
cd "$(dirname "$0")/../.."
dev=.device
out=${OUT:-$dev/out}
mkdir -p "$out"
log="$out/bench-gpu.log"
exec > >(tee "$log") 2>&1

unxz_to() { python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; }
[ -x "$dev/node" ] || { unxz_to "$dev/node.xz" "$dev/node"; chmod +x "$dev/node"; }
dawn=$dev/node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || unxz_to "$dawn.xz" "$dawn"

# Dawn needs a Vulkan loader; the image may have none (the device README's advice).
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in "$dev"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' || true
"$dev/node" --version

echo "== bench:gpu"
"$dev/node" "$dev/bench-gpu.mjs" \
  --sizes "${SIZES:-small,medium,large}" --steps "${STEPS:-10}" --warmup 3 \
  --batch "${BATCH:-16}" --context "${CONTEXT:-256}" >"$out/bench-gpu.json"
cat "$out/bench-gpu.json"

# Issue 20's comparisons on the 50M dense model: without the fused kernels, and bf16 (its
# peak against fp32's above). EXTRA=0 skips them.
if [ "${EXTRA:-1}" != 0 ]; then
  for flags in "--fused off" "--precision bf16"; do
    echo "== bench:gpu medium dense $flags"
    # shellcheck disable=SC2086
    "$dev/node" "$dev/bench-gpu.mjs" --sizes medium --kinds dense --steps "${STEPS:-10}" \
      --warmup 3 --batch "${BATCH:-16}" --context "${CONTEXT:-256}" --no-wasm --no-pytorch \
      $flags >"$out/bench-gpu-${flags// /-}.json" || echo "failed: $flags"
    cat "$out/bench-gpu-${flags// /-}.json"
  done
fi
