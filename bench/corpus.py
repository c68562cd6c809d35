"""The benchmark's synthetic knowledge base, written in bulk.

N posts (90% published, written with bulk_create; 10% drafts, imported from Markdown files the
way an author's notes arrive), 200 tags, 3 to 5 tags and 5 cross-links a post, and bodies of
about 1,500 words in six sections with 10 formulas and 2 code blocks. Bodies are stored as
Markdown only: rendering them is the benchmark's re-render step, indexing them its reindex step.
Django must be set up before this module is imported.
"""

from __future__ import annotations

import datetime
import random
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone
from vocabulary import CLUSTERS, CODE, FORMULAS, ML_WORDS, SHELL, sentence

from notes.models import Link, Post, Tag

TAG_COUNT = 200
TAGS_PER_POST = (3, 5)
LINKS_PER_POST = 5
DRAFT_SHARE = 0.10


def tag_names() -> list[str]:
    pairs = [f"{a} {b}" for a in ML_WORDS for b in ML_WORDS if a != b]
    return random.Random(3).sample(pairs, TAG_COUNT)


def title(rng: random.Random, topics: list[list[str]], index: int) -> str:
    words = [rng.choice(rng.choice(topics)) for _ in range(rng.randint(3, 6))]
    return f"{' '.join(words).capitalize()} ({index})"


def body(rng: random.Random, topics: list[list[str]], index: int, links: list[str]) -> str:
    """About 1,500 words: six sections of four paragraphs, 10 formulas (half of them display
    formulas, all different from post to post), two code blocks and the post's wikilinks."""
    formulas = [FORMULAS[k % len(FORMULAS)].format(i=index * 10 + k) for k in range(10)]
    parts = []
    for section in range(6):
        parts.append(f"## {sentence(rng, topics, 4)[:-1]}\n")
        for paragraph in range(4):
            text = " ".join(sentence(rng, topics, rng.randint(12, 20)) for _ in range(4))
            if paragraph == 1 and formulas:
                text += f" So ${formulas.pop()}$ follows."
            if paragraph == 2 and formulas:
                text += f"\n\n$$ {formulas.pop()} $$\n"
            if paragraph == 3 and links:
                text += f" See [[{links.pop()}]]."
            parts.append(text + "\n")
        if section in (1, 4):
            parts.append((CODE if section == 1 else SHELL).format(i=index) + "\n")
    return "\n".join(parts)


def generate(count: int, drafts_folder: Path, seed: int = 11) -> dict[str, int]:
    """Write the published posts, their tags and links to the database, and the drafts to
    `drafts_folder` as Markdown for the import step. Returns what was made."""
    rng = random.Random(seed)
    author = get_user_model().objects.create_user(
        "bench", first_name="Bench", last_name="Author", is_staff=True, is_superuser=True
    )
    tags = Tag.objects.bulk_create(
        [Tag(name=name, slug=name.replace(" ", "-")) for name in tag_names()]
    )
    drafts = round(count * DRAFT_SHARE)
    published = count - drafts
    now = timezone.now()
    posts = []
    for i in range(published):
        topics = rng.sample(CLUSTERS, 3)
        targets = [f"post-{j}" for j in rng.sample(range(published), LINKS_PER_POST + 1) if j != i]
        text = body(rng, topics, i, targets[:LINKS_PER_POST])
        posts.append(
            Post(
                title=title(rng, topics, i),
                slug=f"post-{i}",
                summary=sentence(rng, topics, 18) if rng.random() < 0.6 else "",
                body=text,
                status=Post.Status.PUBLISHED,
                published_at=now - datetime.timedelta(minutes=rng.randint(60, 10 * 365 * 24 * 60)),
                author=author,
            )
        )
        posts[-1].link_slugs = targets[:LINKS_PER_POST]
    Post.objects.bulk_create(posts, batch_size=500)

    through = Post.tags.through
    ids = dict(Post.objects.values_list("slug", "pk"))
    tagging = [
        through(post_id=ids[post.slug], tag_id=tag.pk)
        for post in posts
        for tag in rng.sample(tags, rng.randint(*TAGS_PER_POST))
    ]
    through.objects.bulk_create(tagging, batch_size=5000)
    links = [
        Link(source_id=ids[post.slug], target_id=ids[slug], from_wikilink=True)
        for post in posts
        for slug in post.link_slugs
    ]
    Link.objects.bulk_create(links, batch_size=5000)

    drafts_folder.mkdir(parents=True, exist_ok=True)
    for n in range(drafts):
        topics = rng.sample(CLUSTERS, 3)
        names = ", ".join(tag.name for tag in rng.sample(tags, rng.randint(*TAGS_PER_POST)))
        targets = [f"post-{j}" for j in rng.sample(range(published), LINKS_PER_POST)]
        (drafts_folder / f"draft-{n}.md").write_text(
            f"---\ntitle: {title(rng, topics, published + n)}\nslug: draft-{n}\n"
            f"draft: true\ntags: [{names}]\n---\n" + body(rng, topics, published + n, targets),
            encoding="utf-8",
        )
    return {
        "published": published,
        "drafts": drafts,
        "tags": len(tags),
        "tag_links": len(tagging),
        "cross_links": len(links),
    }
