from django import template

from notes.mentions import unlinked_mentions

register = template.Library()


@register.inclusion_tag("admin/notes/post/_unlinked_mentions.html", takes_context=True)
def unlinked_mentions_of(context, post):
    """The list under a post's change form; nothing for a post not saved yet."""
    found = unlinked_mentions(post) if post is not None and post.pk else []
    return {"post": post, "mentions": found, "csrf_token": context.get("csrf_token")}
