"""A one-layer character GPT written with scalar Values only, after Andrej Karpathy's microgpt (Feb 2026):
every weight is its own `Value`, every vector a Python list of them, and attention, RMSNorm, the MLP and Adam are
spelled out number by number. examples/char_gpt.py is the same model on tensors.

The data: the list of given names shipped in tinygrad_nn.data (load_names). Each step takes one name, wrapped in
a begin/end token (BOS), and predicts each next character from the ones before it (at most BLOCK_SIZE of them);
the loss is the mean of -log p(next character). Then ten names are sampled at temperature 0.5.

What you should see: the loss falling from about log(27) = 3.3 toward 2.3-2.6 within a few hundred steps, and
sampled names that look more and more like names.

Run:  python examples/microgpt_scalar.py [--steps 300] [--seed 42]
"""

from __future__ import annotations

import argparse
import random
import time

from tinygrad_nn import Value
from tinygrad_nn.data import load_names

N_EMBD, N_HEAD, N_LAYER, BLOCK_SIZE = 16, 4, 1, 16
HEAD_DIM = N_EMBD // N_HEAD


def init_params(vocab_size, rng: random.Random, std=0.08):
    """microgpt's parameters: a dict of matrices (lists of rows of scalar Values), drawn from N(0, std) in this
    order, which examples/char_gpt.py can copy."""
    matrix = lambda nout, nin: [[Value(rng.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]  # noqa: E731
    sd = {"wte": matrix(vocab_size, N_EMBD), "wpe": matrix(BLOCK_SIZE, N_EMBD), "lm_head": matrix(vocab_size, N_EMBD)}
    for i in range(N_LAYER):
        for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
            sd[f"layer{i}.{name}"] = matrix(N_EMBD, N_EMBD)
        sd[f"layer{i}.mlp_fc1"] = matrix(4 * N_EMBD, N_EMBD)
        sd[f"layer{i}.mlp_fc2"] = matrix(N_EMBD, 4 * N_EMBD)
    return sd


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(logits):
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def gpt(sd, token_id, pos_id, keys, values):
    """The logits for the next token, given this one at position pos_id; keys and values of the positions so far
    are kept per layer (the KV cache), so each position attends to itself and the ones before it."""
    x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]
    x = rmsnorm(x)
    for li in range(N_LAYER):
        residual = x
        x = rmsnorm(x)
        q, k, v = (linear(x, sd[f"layer{li}.attn_w{n}"]) for n in "qkv")
        keys[li].append(k)
        values[li].append(v)
        attended = []
        for h in range(N_HEAD):
            s = slice(h * HEAD_DIM, (h + 1) * HEAD_DIM)
            q_h, k_h, v_h = q[s], [ki[s] for ki in keys[li]], [vi[s] for vi in values[li]]
            scores = [sum(q_h[j] * k_t[j] for j in range(HEAD_DIM)) / HEAD_DIM ** 0.5 for k_t in k_h]
            weights = softmax(scores)
            attended.extend(sum(weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(HEAD_DIM))
        x = [a + b for a, b in zip(linear(attended, sd[f"layer{li}.attn_wo"]), residual)]
        residual = x
        x = rmsnorm(x)
        x = [xi.relu() for xi in linear(x, sd[f"layer{li}.mlp_fc1"])]
        x = [a + b for a, b in zip(linear(x, sd[f"layer{li}.mlp_fc2"]), residual)]
    return linear(x, sd["lm_head"])


class Tokenizer:
    """Characters to ids and back; id len(chars) is BOS, which begins and ends every name."""

    def __init__(self, docs):
        self.chars = sorted(set("".join(docs)))
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1

    def encode(self, doc):
        return [self.bos] + [self.chars.index(c) for c in doc] + [self.bos]


def document_loss(sd, tokens):
    n = min(BLOCK_SIZE, len(tokens) - 1)
    keys, values = [[] for _ in range(N_LAYER)], [[] for _ in range(N_LAYER)]
    losses = [-softmax(gpt(sd, tokens[p], p, keys, values))[tokens[p + 1]].log() for p in range(n)]
    return (1 / n) * sum(losses)


def sample(sd, tok, rng, temperature=0.5):
    keys, values = [[] for _ in range(N_LAYER)], [[] for _ in range(N_LAYER)]
    token, out = tok.bos, []
    for pos in range(BLOCK_SIZE):
        probs = softmax([logit / temperature for logit in gpt(sd, token, pos, keys, values)])
        token = rng.choices(range(tok.vocab_size), weights=[p.data for p in probs])[0]
        if token == tok.bos:
            break
        out.append(tok.chars[token])
    return "".join(out)


def train(steps, seed=42, lr=0.01, betas=(0.85, 0.99), eps=1e-8, every=1, log=print):
    """microgpt's loop: one name per step, Adam with a learning rate falling linearly to 0. Returns the losses,
    the parameters, the tokenizer and the seconds per step."""
    rng = random.Random(seed)
    docs = load_names()
    rng.shuffle(docs)
    tok = Tokenizer(docs)
    sd = init_params(tok.vocab_size, rng)
    params = [p for mat in sd.values() for row in mat for p in row]
    m, v = [0.0] * len(params), [0.0] * len(params)
    losses, start = [], time.perf_counter()
    for step in range(steps):
        loss = document_loss(sd, tok.encode(docs[step % len(docs)]))
        loss.backward()
        lr_t = lr * (1 - step / steps)
        b1, b2 = betas
        for i, p in enumerate(params):
            m[i] = b1 * m[i] + (1 - b1) * p.grad
            v[i] = b2 * v[i] + (1 - b2) * p.grad ** 2
            m_hat, v_hat = m[i] / (1 - b1 ** (step + 1)), v[i] / (1 - b2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps)
            p.grad = 0.0
        losses.append(loss.data)
        if every and (step % every == 0 or step == steps - 1):
            log(f"step {step + 1:4d} / {steps} | loss {loss.data:.4f}")
    return losses, sd, tok, (time.perf_counter() - start) / max(steps, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--every", type=int, default=25, help="print the loss every this many steps")
    args = parser.parse_args(argv)
    losses, sd, tok, per_step = train(args.steps, args.seed, every=args.every)
    print(f"{per_step * 1000:.1f} ms per step (scalar Values: {sum(len(r) for m in sd.values() for r in m)} "
          f"parameters, each its own node)")
    rng = random.Random(args.seed)
    print("sampled names:", ", ".join(sample(sd, tok, rng) for _ in range(10)))
    return losses


if __name__ == "__main__":
    main()
