"""Text as kb keeps it: no control characters other than tab and line breaks.

Text pasted from PDFs carries form feeds and vertical tabs; XML 1.0 forbids them, so one of
them in a title made every feed fail. Every way text comes in (the admin, the preview, imports,
restore) passes through a model's save or `clean_text`, so what is stored is clean; `xml_safe`
is the last guard on what XML outputs write, for anything that reached the database before.
"""

from __future__ import annotations

import re

from django.db import models

# Page and line breaks of other systems read as line breaks.
_BREAKS = re.compile(r"[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Everything else XML 1.0 cannot carry: C0 controls but tab, LF and CR; DEL and the C1 block;
# lone surrogates (from JSON escapes), and the two noncharacters U+FFFE and U+FFFF.
_UNWANTED = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str) -> str:
    """`value` with page breaks turned into line breaks and other control characters dropped."""
    if not value:
        return value
    return _UNWANTED.sub("", _BREAKS.sub("\n", value))


def clean_text_fields(instance: models.Model) -> None:
    """Clean every text field of a model instance in place, before it is saved. A one-line
    field (a title, a name, a slug) gets a space where a page break was."""
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname)
        if not isinstance(value, str):
            continue
        if isinstance(field, models.TextField):
            setattr(instance, field.attname, clean_text(value))
        elif isinstance(field, models.CharField):
            setattr(instance, field.attname, _UNWANTED.sub("", _BREAKS.sub(" ", value)))


def xml_safe(value: str) -> str:
    """`value` without the characters an XML 1.0 document may not contain."""
    return _XML_ILLEGAL.sub("", value) if value else value
