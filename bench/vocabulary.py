"""Words the benchmarks build their synthetic notes from (run as scripts, so `bench/` is on
the import path)."""

import random

ML_WORDS = [
    "model",
    "training",
    "data",
    "loss",
    "gradient",
    "layer",
    "token",
    "attention",
    "weight",
    "sample",
    "noise",
    "policy",
    "reward",
    "value",
    "network",
    "batch",
    "update",
    "step",
    "error",
    "signal",
    "feature",
    "space",
    "vector",
    "matrix",
    "kernel",
    "prior",
    "posterior",
    "estimate",
    "variance",
    "bias",
    "scale",
    "mean",
    "schedule",
    "embedding",
    "decoder",
    "encoder",
    "entropy",
    "sequence",
]

FUNCTION_WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "that",
    "we",
    "with",
    "for",
    "on",
    "by",
    "this",
    "as",
    "from",
    "it",
    "are",
    "be",
    "can",
    "which",
]


# Posts are about a few topics each, as real notes are: a topic's words fill its posts, turn up
# now and then elsewhere, and function words are everywhere.
TOPIC_WORDS = [
    "diffusion score matching denoising sampler noise schedule guidance",
    "transformer attention softmax token embedding rotary position decoder",
    "optimizer adam momentum gradient descent warmup decay regularization",
    "kernel gaussian process posterior prior likelihood bayesian variational",
    "reinforcement policy value reward agent bandit regret exploration",
    "convolution image vision contrastive clip caption dataset benchmark",
]
CLUSTERS = [words.split() for words in TOPIC_WORDS] + [
    [f"topic{c:02d}word{w:02d}" for w in range(16)] for c in range(44)
]
VOCABULARY = [word for cluster in CLUSTERS for word in cluster]
FILLER_WORDS = (
    "the a of and to in is that we this with for as on by it are be from which at an our"
    " model models method results paper show shows work simple new approach used using"
    " trained training train trains better than more each when while into over under"
)
FILLER = FILLER_WORDS.split(" ")
RARE = [f"zeta{i:04d}" for i in range(2000)]


def sentence(rng: random.Random, topics: list[list[str]], length: int) -> str:
    words = []
    for _ in range(length):
        roll = rng.random()
        if roll < 0.30:
            words.append(rng.choice(rng.choice(topics)))
        elif roll < 0.33:
            words.append(rng.choice(VOCABULARY))
        else:
            words.append(rng.choice(FILLER))
    if rng.random() < 0.2:
        words[rng.randrange(length)] = rng.choice(RARE)
    return " ".join(words).capitalize() + "."


# A typical post's formulas and code blocks, numbered so no two posts share a formula and the
# typesetting cache can't flatter a benchmark.
FORMULAS = (
    r"\frac{{\partial L}}{{\partial w_{{{i}}}}}",
    r"\sum_{{j=1}}^{{{i}}} x_j^2",
    r"\mathcal{{N}}(\mu_{{{i}}}, \Sigma)",
    r"\text{{softmax}}(\frac{{QK^\top}}{{\sqrt{{d_{{{i}}}}}}})V",
    r"\begin{{bmatrix}} a_{{{i}}} \\ b \end{{bmatrix}}",
)

CODE = '''```python
def step_{i}(params, grads, lr=1e-3):
    """One plain SGD step."""
    return {{name: p - lr * grads[name] for name, p in params.items()}}
```'''

SHELL = """```bash
python train.py --epochs {i} --batch-size 64 | tee log-{i}.txt
```"""
