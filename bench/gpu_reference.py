"""PyTorch eager reference for `npm run bench:gpu`: the same architectures, trained the same way.

Reads a JSON spec on stdin ({steps, warmup, batch, context, cases: [{size, kind, config}]},
config being Frugal's model config) and prints one JSON object: for each case, tokens/s
and step time in fp32 and in bf16 autocast, on the CUDA device. Prints {"skipped": why}
when torch or a CUDA device is missing. `--cpu` runs it on the CPU (a dry run of the
script itself; the figures mean nothing).

The model is Frugal's (src/worker/model): token embedding tied to the output head,
pre-norm blocks of RMSNorm, causal attention with rotary positions, SwiGLU feed-forward
or a DeepSeekMoE layer (softmax router, top-k routed experts plus shared ones, each token
gathered to its experts and scattered back), final RMSNorm, cross-entropy, AdamW with
gradient clipping at 1. Written as a user of PyTorch would write it in eager mode:
scaled_dot_product_attention (PyTorch's fused attention) and a loop over experts, no
torch.compile.
"""

import json
import sys
import time


def main() -> None:
    spec = json.load(sys.stdin)
    try:
        import torch
    except ImportError:
        print(json.dumps({"skipped": "torch is not installed"}))
        return
    on_cpu = "--cpu" in sys.argv
    if not on_cpu and not torch.cuda.is_available():
        print(json.dumps({"skipped": "torch sees no CUDA device"}))
        return
    device = torch.device("cpu" if on_cpu else "cuda")
    out = {
        "device": "cpu" if on_cpu else torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "attention": "scaled_dot_product_attention"
        if hasattr(torch.nn.functional, "scaled_dot_product_attention")
        else "composed (torch before 2.0)",
        "cases": [],
    }
    for case in spec["cases"]:
        result = {"size": case["size"], "kind": case["kind"]}
        for precision in ("fp32", "bf16"):
            result[precision] = run(torch, device, case["config"], spec, precision)
            print(f"  pytorch {case['size']} {case['kind']} {precision}: "
                  f"{result[precision]['tokensPerSecond']:.0f} tokens/s", file=sys.stderr)
        out["cases"].append(result)
    print(json.dumps(out))


def build(torch, cfg):
    nn = torch.nn
    F = torch.nn.functional
    D = cfg["width"]
    H = cfg["heads"]
    hs = D // H
    eps = cfg.get("normEps", 1e-5)
    theta = cfg.get("ropeTheta", 10000.0)
    dense_hidden = cfg.get("ffnHidden") or ((8 * D + 47) // 48) * 16
    moe = cfg.get("moe")

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(D))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.weight

    class SwiGLU(nn.Module):
        def __init__(self, h):
            super().__init__()
            self.gate = nn.Linear(D, h, bias=False)
            self.up = nn.Linear(D, h, bias=False)
            self.down = nn.Linear(h, D, bias=False)

        def forward(self, x):
            return self.down(F.silu(self.gate(x)) * self.up(x))

    class MoE(nn.Module):
        def __init__(self):
            super().__init__()
            h = moe.get("expertHidden") or max(16, ((dense_hidden // moe["topK"]) + 15) // 16 * 16)
            self.k = moe["topK"]
            self.router = nn.Linear(D, moe["routedExperts"], bias=False)
            self.experts = nn.ModuleList(SwiGLU(h) for _ in range(moe["routedExperts"]))
            self.shared = nn.ModuleList(SwiGLU(h) for _ in range(moe.get("sharedExperts", 1)))

        def forward(self, x):
            N = x.shape[0]
            scores = F.softmax(self.router(x).float(), dim=-1)
            weight, chosen = scores.topk(self.k, dim=-1)
            weight = (weight / weight.sum(-1, keepdim=True)).to(x.dtype)
            y = torch.zeros_like(x)
            flat = chosen.reshape(-1)
            rows = torch.arange(N, device=x.device).repeat_interleave(self.k)
            w = weight.reshape(-1, 1)
            for e, expert in enumerate(self.experts):
                hit = (flat == e).nonzero(as_tuple=True)[0]
                if hit.numel() == 0:
                    continue
                tokens = rows[hit]
                y.index_add_(0, tokens, expert(x[tokens]) * w[hit])
            for s in self.shared:
                y = y + s(x)
            return y

    class Block(nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.attn_norm = RMSNorm()
            self.q = nn.Linear(D, D, bias=False)
            self.k = nn.Linear(D, D, bias=False)
            self.v = nn.Linear(D, D, bias=False)
            self.out = nn.Linear(D, D, bias=False)
            self.ffn_norm = RMSNorm()
            self.ffn = MoE() if moe and layer >= moe.get("firstDenseLayers", 1) else SwiGLU(dense_hidden)

        def forward(self, x, cos, sin):
            B, T, _ = x.shape
            h = self.attn_norm(x)
            q = self.q(h).view(B, T, H, hs).transpose(1, 2)
            k = self.k(h).view(B, T, H, hs).transpose(1, 2)
            v = self.v(h).view(B, T, H, hs).transpose(1, 2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            a = attention(q, k, v)
            x = x + self.out(a.transpose(1, 2).reshape(B, T, D))
            n = self.ffn_norm(x)
            return x + self.ffn(n.reshape(B * T, D)).view(B, T, D)

    def attention(q, k, v):
        if hasattr(F, "scaled_dot_product_attention"):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        # PyTorch before 2.0 (a dry run on an old CPU build): the same, composed.
        T = q.shape[-2]
        mask = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
        s = (q @ k.transpose(-1, -2)) / hs**0.5
        return s.masked_fill(mask, float("-inf")).softmax(-1) @ v

    def rotate(x, cos, sin):
        x1, x2 = x[..., : hs // 2], x[..., hs // 2:]
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(cfg["vocabSize"], D)
            nn.init.normal_(self.embed.weight, std=0.02)
            self.blocks = nn.ModuleList(Block(l) for l in range(cfg["layers"]))
            self.norm = RMSNorm()
            T = cfg["contextLength"]
            inv = 1.0 / theta ** (torch.arange(0, hs, 2).float() / hs)
            ang = torch.outer(torch.arange(T).float(), inv)
            ang = torch.cat((ang, ang), dim=-1)
            self.register_buffer("cos", ang.cos(), persistent=False)
            self.register_buffer("sin", ang.sin(), persistent=False)

        def forward(self, ids, targets):
            T = ids.shape[1]
            x = self.embed(ids)
            cos, sin = self.cos[:T].to(x.dtype), self.sin[:T].to(x.dtype)
            for b in self.blocks:
                x = b(x, cos, sin)
            logits = self.norm(x) @ self.embed.weight.t()
            return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))

    return Model()


def run(torch, device, cfg, spec, precision):
    torch.manual_seed(0)
    model = build(torch, cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    B, T, V = spec["batch"], spec["context"], cfg["vocabSize"]
    ids = torch.randint(0, V, (B, T + 1), device=device)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = model(inputs, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    for _ in range(spec["warmup"]):
        step()
    sync()
    times = []
    for _ in range(spec["steps"]):
        t0 = time.perf_counter()
        loss = step()
        sync()
        times.append(time.perf_counter() - t0)
    total = sum(times)
    ordered = sorted(times)
    result = {
        # Same architecture as Frugal's: this must equal the bench's own parameter count.
        "parameters": sum(p.numel() for p in model.parameters()),
        "tokensPerSecond": spec["steps"] * B * T / total,
        "stepMs": {"median": ordered[len(ordered) // 2] * 1000, "min": ordered[0] * 1000},
        "finalLoss": float(loss),
    }
    if device.type == "cuda":
        result["peakMemoryBytes"] = torch.cuda.max_memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    del model, opt
    return result


if __name__ == "__main__":
    main()
