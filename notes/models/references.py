"""The works an author reads and cites: one row per BibTeX entry, keyed by its citation key."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from notes.bibliography import formatting
from notes.rendering import CitedWork
from notes.rendering.citations import KEY_PATTERN


class ReferenceQuerySet(models.QuerySet):
    def resolve_citations(self, keys: Sequence[str]) -> dict[str, CitedWork]:
        """The renderer's citation resolver: one query for every key a body cites."""
        wanted = [k for k in keys if k]
        if not wanted:
            return {}
        return {ref.key: ref.as_cited_work() for ref in self.filter(key__in=wanted)}

    def public(self) -> ReferenceQuerySet:
        """References a published post cites or summarizes; drafts never make one public.
        Each carries `citing_count`, how many published posts cite it."""
        from notes.models.posts import Post  # posts.py imports this module

        published = Post.objects.published()
        return self.annotate(
            citing_count=models.Count(
                "citing_posts", filter=models.Q(citing_posts__in=published), distinct=True
            ),
            summarized=models.Exists(published.filter(reference=models.OuterRef("pk"))),
        ).filter(models.Q(citing_count__gt=0) | models.Q(summarized=True))


class Reference(models.Model):
    key = models.CharField(
        "citation key",
        max_length=200,
        unique=True,
        validators=[
            RegexValidator(
                f"^{KEY_PATTERN}$",
                "A key is letters, digits and _, with :.#$%%&+?<>~/- allowed inside.",
            )
        ],
        help_text="What posts write to cite it, as in [@vaswani2017].",
    )
    entry_type = models.CharField(max_length=40, default="misc", help_text="article, book, …")
    title = models.CharField(max_length=1000)
    # [{"family": "Vaswani", "given": "Ashish"}, ...] in the order the work lists them.
    authors = models.JSONField(default=list, blank=True)
    # The family and given names as one line of text, for searching.
    author_names = models.TextField(blank=True, editable=False)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    venue = models.CharField(
        max_length=500, blank=True, help_text="The journal, proceedings or publisher."
    )
    volume = models.CharField(max_length=50, blank=True)
    number = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True)
    arxiv_id = models.CharField("arXiv id", max_length=50, blank=True)
    url = models.URLField("URL", max_length=500, blank=True)
    abstract = models.TextField(blank=True)
    bibtex = models.TextField(
        "BibTeX", blank=True, help_text="The entry as imported, written back out unchanged."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["author_names", "year", "title"]
        get_latest_by = "updated_at"
        constraints = [
            models.CheckConstraint(condition=~models.Q(key=""), name="notes_reference_has_key"),
            models.CheckConstraint(condition=~models.Q(title=""), name="notes_reference_has_title"),
            models.UniqueConstraint(
                Lower("doi"), condition=~models.Q(doi=""), name="notes_reference_unique_doi"
            ),
            models.UniqueConstraint(
                fields=["arxiv_id"],
                condition=~models.Q(arxiv_id=""),
                name="notes_reference_unique_arxiv",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        self.author_names = " ".join(
            " ".join(p for p in (a.get("family") or a.get("literal", ""), a.get("given")) if p)
            for a in self.authors
        )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("notes:reference-detail", kwargs={"key": self.key})

    def clean(self) -> None:
        people = self.authors
        if not isinstance(people, list) or not all(
            isinstance(p, dict)
            and all(isinstance(v, str) for v in p.values())
            and (p.get("family") or p.get("literal"))
            for p in people
        ):
            raise ValidationError(
                {"authors": 'A list like [{"family": "Ho", "given": "Jonathan"}], in order.'}
            )

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def in_text(self) -> str:
        """ "Vaswani et al., 2017": how a citation names it."""
        return formatting.in_text(self)

    @property
    def full_citation(self) -> str:
        return formatting.reference_text(self)

    @property
    def full_citation_html(self) -> str:
        return formatting.reference_html(self)

    @property
    def as_bibtex(self) -> str:
        from notes.bibliography.writing import entry_bibtex

        return entry_bibtex(self)

    def as_cited_work(self) -> CitedWork:
        # A work without authors is named by its title, as APA does.
        short_title = self.title if len(self.title) <= 50 else self.title[:49] + "…"
        return CitedWork(
            key=self.key,
            authors=formatting.in_text_authors(self) or short_title,
            narrative_authors=formatting.in_text_authors(self, narrative=True) or short_title,
            year=formatting.year_text(self),
            text=formatting.reference_text(self),
            html=formatting.reference_html(self),
            pk=self.pk,
        )
