"""How many typical posts per second the rendering pipeline handles.

A typical post here is ~1,500 words in six sections, 10 formulas (half
inline, half display, all different from post to post so the formula cache
doesn't flatter the result), two code blocks, links, a footnote and wikilinks.

    .venv/bin/python bench/render_bench.py --posts 1000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vocabulary import CODE, FORMULAS, FUNCTION_WORDS, ML_WORDS, SHELL

from notes.rendering import WikiTarget, render_markdown

VOCABULARY = [*ML_WORDS, *FUNCTION_WORDS]


def make_post(index: int, rng: random.Random) -> str:
    parts = [f"# Post {index}\n"]
    formulas = [FORMULAS[k % len(FORMULAS)].format(i=index * 10 + k) for k in range(10)]
    for section in range(6):
        parts.append(f"## Section {section}\n")
        for paragraph in range(4):
            words = [rng.choice(VOCABULARY) for _ in range(62)]
            words[5] = f"[link](https://example.com/{index}/{section})"
            words[20] = f"**{words[20]}**"
            if paragraph == 1 and formulas:
                words[30] = f"${formulas.pop()}$"
            if paragraph == 2 and formulas:
                words.append(f"\n\n$$ {formulas.pop()} $$\n")
            if paragraph == 3 and section == 0:
                words[40] = "[[Some other post]] and [[missing post|a label]]"
            parts.append(" ".join(words) + "\n")
        if section in (1, 4):
            parts.append((CODE if section == 1 else SHELL).format(i=index) + "\n")
    parts.append("A closing note.[^1]\n\n[^1]: With a footnote.\n")
    return "\n".join(parts)


def resolve(targets: Sequence[str]) -> dict[str, WikiTarget]:
    return {"Some other post": WikiTarget("Some other post", "/posts/some-other-post/")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    posts = [make_post(i, rng) for i in range(args.posts)]
    sample = render_markdown(posts[0], resolve)
    print(
        f"typical post: {len(posts[0]):,} chars, {sample.word_count:,} words, "
        f"{sample.html.count('<math')} formulas, {sample.html.count('<pre')} code blocks"
    )

    started = time.perf_counter()
    for post in posts:
        render_markdown(post, resolve)
    elapsed = time.perf_counter() - started
    print(
        f"{args.posts:,} posts in {elapsed:.2f} s: {args.posts / elapsed:.1f} posts/s, "
        f"{1000 * elapsed / args.posts:.2f} ms/post"
    )


if __name__ == "__main__":
    main()
