class UnicodeSlugConverter:
    """Like Django's `slug`, but with letters of any alphabet (slugs of Japanese titles)."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
