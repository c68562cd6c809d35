"""The renderer's image resolver: the size of each uploaded image a body shows, and smaller
copies of the wide ones, so pages reserve the space and phones fetch fewer bytes.

Only files under MEDIA_ROOT are read (addresses starting with MEDIA_URL); anything else, such
as a figure on a paper's own site, is left as written. Copies are made once, with names derived
from the original's (``photo.jpg`` → ``photo.w480.jpg``), and re-used on every later save.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from PIL import Image

from notes.rendering.results import ImageInfo

logger = logging.getLogger(__name__)

# Widths of the smaller copies; only those narrower than the original are made.
VARIANT_WIDTHS = (480, 960)
_RESIZABLE = {"PNG", "JPEG", "WEBP"}


def describe_images(sources: Sequence[str]) -> dict[str, ImageInfo]:
    found = {}
    for src in sources:
        path = _local_path(src)
        if path is None:
            continue
        try:
            found[src] = _describe(src, path)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            # A missing or unreadable file still renders, just without a size.
            logger.info("image %s not measured: %s", src, exc)
    return found


def _local_path(src: str) -> Path | None:
    prefix = "/" + settings.MEDIA_URL.strip("/") + "/"
    if not src.startswith(prefix) or ".." in src or "?" in src:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / src.removeprefix(prefix)).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def variant_path(path: Path, width: int) -> Path:
    return path.with_name(f"{path.stem}.w{width}{path.suffix}")


def _describe(src: str, path: Path) -> ImageInfo:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            width, height = image.size
            kind = image.format
            srcset = []
            for target in VARIANT_WIDTHS:
                if target >= width or kind not in _RESIZABLE:
                    continue
                copy = variant_path(path, target)
                if not copy.exists():
                    resized = image.resize((target, round(height * target / width)))
                    resized.save(copy, format=kind)
                srcset.append((src.rsplit("/", 1)[0] + "/" + copy.name, target))
    return ImageInfo(width=width, height=height, srcset=tuple(srcset))
