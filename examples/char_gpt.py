"""examples/microgpt_scalar.py's one-layer character GPT on tensors, built from tinygrad_nn.nn's blocks:
`Embedding` for characters and positions, `RMSNorm`, causal `scaled_dot_product_attention` over four heads,
a ReLU MLP, `AdamW` (no weight decay: microgpt's Adam) with a `LambdaLR` schedule falling linearly to 0.

The same model as the scalar file, number for number: from the same parameters it computes the same losses (the
tests hold the two to 1e-12). The difference is the graph: a handful of tensor nodes per step instead of tens of
thousands of scalar ones, which is why it is more than 20 times faster per step (--compare measures both).

Each step takes --batch-size names (1, microgpt's choice, by default), each wrapped in a begin/end token (BOS) and
padded with BOS; the loss is the mean of -log p(next character) over the real positions. Then ten names are
sampled at temperature 0.5.

Run:  python examples/char_gpt.py [--steps 1000] [--batch-size 1] [--seed 42] [--compare]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from tinygrad_nn import no_grad
from tinygrad_nn.data import load_names
from tinygrad_nn.nn import Embedding, Linear, Module, ModuleList, RMSNorm
from tinygrad_nn.nn import functional as F
from tinygrad_nn.ops import log_softmax, relu, reshape, swapaxes
from tinygrad_nn.optim import AdamW
from tinygrad_nn.optim.lr_scheduler import LambdaLR

N_EMBD, N_HEAD, N_LAYER, BLOCK_SIZE = 16, 4, 1, 16


class Block(Module):
    """RMSNorm, causal self-attention, residual; RMSNorm, MLP (ReLU), residual: microgpt's layer."""

    def __init__(self, seed):
        self.norm1, self.norm2 = RMSNorm(N_EMBD, eps=1e-5, elementwise_affine=False), \
            RMSNorm(N_EMBD, eps=1e-5, elementwise_affine=False)
        self.wq, self.wk, self.wv, self.wo = (Linear(N_EMBD, N_EMBD, bias=False, seed=seed) for _ in range(4))
        self.fc1, self.fc2 = Linear(N_EMBD, 4 * N_EMBD, bias=False, seed=seed), \
            Linear(4 * N_EMBD, N_EMBD, bias=False, seed=seed)

    def forward(self, x):
        b, t, _ = x.shape
        h = self.norm1(x)
        heads = lambda y: swapaxes(reshape(y, shape=(b, t, N_HEAD, N_EMBD // N_HEAD)), 1, 2)  # noqa: E731
        att = F.scaled_dot_product_attention(heads(self.wq(h)), heads(self.wk(h)), heads(self.wv(h)), is_causal=True)
        x = x + self.wo(reshape(swapaxes(att, 1, 2), shape=(b, t, N_EMBD)))
        return x + self.fc2(relu(self.fc1(self.norm2(x))))


class CharGPT(Module):
    def __init__(self, vocab_size, seed=0):
        rng = np.random.default_rng(seed)
        self.wte, self.wpe = Embedding(vocab_size, N_EMBD, seed=rng), Embedding(BLOCK_SIZE, N_EMBD, seed=rng)
        self.lm_head = Linear(N_EMBD, vocab_size, bias=False, seed=rng)
        self.layers = ModuleList([Block(rng) for _ in range(N_LAYER)])
        self.norm = RMSNorm(N_EMBD, eps=1e-5, elementwise_affine=False)

    def forward(self, idx):
        """Logits (B, T, vocab) for token ids idx (B, T)."""
        x = self.norm(self.wte(idx) + self.wpe(np.arange(idx.shape[1])))
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(x)

    def load_microgpt(self, sd):
        """Take the parameters of examples/microgpt_scalar.py (a dict of lists of rows of scalar Values)."""
        mat = lambda name: np.array([[v.data for v in row] for row in sd[name]])  # noqa: E731
        self.wte.weight.data[...], self.wpe.weight.data[...] = mat("wte"), mat("wpe")
        self.lm_head.weight.data[...] = mat("lm_head")
        for i, layer in enumerate(self.layers):
            for ours, theirs in ((layer.wq, "attn_wq"), (layer.wk, "attn_wk"), (layer.wv, "attn_wv"),
                                 (layer.wo, "attn_wo"), (layer.fc1, "mlp_fc1"), (layer.fc2, "mlp_fc2")):
                ours.weight.data[...] = mat(f"layer{i}.{theirs}")


def init_like_microgpt(model, rng: random.Random, std=0.08):
    """Draw every weight from N(0, std) with Python's random, in microgpt's order (so the two files start alike)."""
    draw = lambda p: p.data.__setitem__(Ellipsis, np.array([[rng.gauss(0, std) for _ in range(p.shape[1])]  # noqa: E731
                                                            for _ in range(p.shape[0])]))
    draw(model.wte.weight)
    draw(model.wpe.weight)
    draw(model.lm_head.weight)
    for layer in model.layers:
        for lin in (layer.wq, layer.wk, layer.wv, layer.wo, layer.fc1, layer.fc2):
            draw(lin.weight)


class Tokenizer:
    def __init__(self, docs):
        self.chars = sorted(set("".join(docs)))
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1
        self.ids = {c: i for i, c in enumerate(self.chars)}

    def batch(self, docs):
        """Inputs (B, T), targets (B, T) and a mask of the real positions: each name as BOS name BOS, padded with
        BOS, at most BLOCK_SIZE predictions per name."""
        seqs = [[self.bos] + [self.ids[c] for c in d] + [self.bos] for d in docs]
        t = min(BLOCK_SIZE, max(len(s) for s in seqs) - 1)
        tokens = np.full((len(seqs), t + 1), self.bos)
        mask = np.zeros((len(seqs), t))
        for i, s in enumerate(seqs):
            n = min(BLOCK_SIZE, len(s) - 1)
            tokens[i, :n + 1] = s[:n + 1]
            mask[i, :n] = 1.0
        return tokens[:, :-1], tokens[:, 1:], mask


def batch_loss(model, x, y, mask):
    logp = log_softmax(model(x), axis=-1)
    b, t = y.shape
    picked = logp[np.arange(b)[:, None], np.arange(t)[None, :], y]  # log p of each target character
    return -(picked * mask).sum() / mask.sum()


def sample(model, tok, rng, temperature=0.5):
    out = [tok.bos]
    with no_grad():
        for _ in range(BLOCK_SIZE):
            logits = model(np.array([out]))[0, -1].data / temperature
            p = np.exp(logits - logits.max())
            token = rng.choices(range(tok.vocab_size), weights=list(p / p.sum()))[0]
            if token == tok.bos:
                break
            out.append(token)
    return "".join(tok.chars[i] for i in out[1:])


def train(steps, seed=42, batch_size=1, lr=0.01, every=1, log=print, model=None):
    """microgpt's recipe on tensors. Returns the losses, the model, the tokenizer and the seconds per step."""
    rng = random.Random(seed)
    docs = load_names()
    rng.shuffle(docs)
    tok = Tokenizer(docs)
    if model is None:
        model = CharGPT(tok.vocab_size)
        init_like_microgpt(model, rng)
    opt = AdamW(model.parameters(), lr=lr, betas=(0.85, 0.99), eps=1e-8, weight_decay=0.0)
    schedule = LambdaLR(opt, lambda step: 1 - step / steps)
    losses, start = [], time.perf_counter()
    for step in range(steps):
        first = step * batch_size
        x, y, mask = tok.batch([docs[(first + i) % len(docs)] for i in range(batch_size)])
        loss = batch_loss(model, x, y, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(loss.item())
        if every and (step % every == 0 or step == steps - 1):
            log(f"step {step + 1:4d} / {steps} | loss {loss.item():.4f} | lr {schedule.get_last_lr()[0]:.5f}")
    return losses, model, tok, (time.perf_counter() - start) / max(steps, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--every", type=int, default=100, help="print the loss every this many steps")
    parser.add_argument("--compare", action="store_true",
                        help="also time microgpt_scalar.py's steps on the same names and print the ratio")
    args = parser.parse_args(argv)
    losses, model, tok, per_step = train(args.steps, args.seed, args.batch_size, every=args.every)
    print(f"{per_step * 1000:.2f} ms per step (batch of {args.batch_size}; "
          f"{sum(p.size for p in model.parameters())} parameters in {len(model.parameters())} tensors)")
    rng = random.Random(args.seed)
    print("sampled names:", ", ".join(sample(model, tok, rng) for _ in range(10)))
    if args.compare:
        import microgpt_scalar

        n = min(args.steps, 10)
        _, _, _, scalar = microgpt_scalar.train(n, args.seed, every=0)
        _, _, _, tensor = train(n, args.seed, 1, every=0)
        print(f"per step over {n} names: scalar {scalar * 1000:.1f} ms, tensor {tensor * 1000:.2f} ms: "
              f"{scalar / tensor:.0f}x faster")
    return losses


if __name__ == "__main__":
    main()
