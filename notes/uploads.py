"""Images dropped into the editor: accepted only when Pillow decodes them as PNG, JPEG, GIF or
WebP, and stored under a random name whose extension comes from what was decoded.

The file name and content type the browser sends are never trusted: an HTML page named
`x.png` or an SVG with a script would otherwise be served back from our own origin.
"""

from __future__ import annotations

import io
import uuid
import warnings

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils._os import safe_join
from django.views.decorators.http import require_POST, require_safe
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's format name → the extension the stored file gets.
ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
# The extensions a file of each kind may carry (imports and older sites use .jpeg too).
EXTENSIONS = {"png": {"png"}, "jpg": {"jpg", "jpeg"}, "gif": {"gif"}, "webp": {"webp"}}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


class RejectedUpload(Exception):
    """An upload kb will not store; the message is shown to the author."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_image(data: bytes, *, max_pixels: int) -> str:
    """The extension for `data` if it is a whole, reasonably sized image of an allowed format.

    Raises RejectedUpload otherwise. The pixel count is checked from the header, before any
    pixel is decoded, so a small file that would expand into gigabytes is refused cheaply.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; kb applies its own limit below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                width, height = image.size
                frames = getattr(image, "n_frames", 1)
                if kind not in ALLOWED_FORMATS:
                    raise RejectedUpload(
                        f"{kind} images are not accepted; use PNG, JPEG, GIF or WebP."
                    )
                if width * height * frames > max_pixels:
                    raise RejectedUpload(
                        f"The image is {width:,} by {height:,} pixels"
                        + (f" in {frames} frames" if frames > 1 else "")
                        + f": too many pixels (the limit is {max_pixels:,})."
                    )
                image.verify()
            # verify() leaves the image unusable; decoding every pixel catches truncation.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except UnidentifiedImageError as exc:
        raise RejectedUpload(
            "This file is not an image kb accepts; use PNG, JPEG, GIF or WebP."
        ) from exc
    except Image.DecompressionBombError as exc:
        raise RejectedUpload("The image has too many pixels to be decoded safely.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise RejectedUpload(f"The image is damaged or incomplete ({exc}).") from exc
    return ALLOWED_FORMATS[kind]


# What a file may say about who took it, where and with what: EXIF (GPS, serial numbers, time),
# XMP, comments and Photoshop's IPTC block. PNG text chunks count too (see _has_metadata).
IDENTIFYING = {"exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"}


def without_metadata(data: bytes) -> bytes:
    """The image re-encoded without identifying metadata, turned the way its EXIF orientation
    said (which would otherwise be lost with it). An image that carries none is returned as it
    was, byte for byte; so is a GIF, which has no EXIF and whose palette re-encoding could harm.
    `data` must have passed `check_image`."""
    with Image.open(io.BytesIO(data)) as image:
        kind = image.format
        if kind == "GIF" or not _has_metadata(image):
            return data
        icc_profile = image.info.get("icc_profile")
        options: dict = {"icc_profile": icc_profile} if icc_profile else {}
        if getattr(image, "n_frames", 1) > 1:
            # Animated PNG or WebP: every frame, no metadata; orientation is rare there.
            clean, options["save_all"] = image, True
        else:
            clean = ImageOps.exif_transpose(image)
        clean.info = {}
        if kind in {"JPEG", "WEBP"}:
            options["quality"] = 92
        buffer = io.BytesIO()
        clean.save(buffer, kind, **options)
        return buffer.getvalue()


def _has_metadata(image: Image.Image) -> bool:
    return bool(IDENTIFYING & set(image.info)) or bool(getattr(image, "text", None))


def store_image(upload: UploadedFile) -> str:
    """Check an uploaded file and save it; returns its public URL."""
    limit = settings.KB_UPLOAD_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise RejectedUpload(
            f"The file is larger than the {limit // (1024 * 1024)} MB limit.", status=413
        )
    data = upload.read()
    extension = check_image(data, max_pixels=settings.KB_UPLOAD_MAX_PIXELS)
    if not settings.KB_UPLOAD_KEEP_METADATA:
        data = without_metadata(data)
    folder = timezone.now().strftime(settings.MARKDOWNX_MEDIA_PATH)
    name = default_storage.save(f"{folder}{uuid.uuid4().hex}.{extension}", ContentFile(data))
    return default_storage.url(name)


@require_POST
@staff_member_required
def upload_image(request: HttpRequest) -> JsonResponse:
    """markdownx's upload endpoint, same contract: `{"image_code": "![](url)"}` on success, and
    the form-style `{"image": [message]}` with a 4xx status otherwise."""
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"image": ["Choose an image file to upload."]}, status=400)
    try:
        url = store_image(upload)
    except RejectedUpload as exc:
        return JsonResponse({"image": [str(exc)]}, status=exc.status)
    return JsonResponse({"image_code": f"![]({url})"})


@require_safe
def serve_upload(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded images, when no web server in front serves /media/ (KB_SERVE_MEDIA=1, as in
    docker compose). A file is sent only if Pillow reads it as one of the accepted formats,
    with that format's Content-Type whatever its name says, no sniffing, and a sandbox that
    runs nothing. Anything else, a hidden name or a name the file system refuses, is a 404."""
    if not settings.KB_SERVE_MEDIA:
        raise Http404("Media are served by the web server.")
    if any(not part or part.startswith(".") for part in path.split("/")):
        raise Http404("No such file.")
    try:
        handle = open(safe_join(settings.MEDIA_ROOT, path), "rb")  # noqa: SIM115 (the response closes it)
    except (SuspiciousFileOperation, OSError, ValueError) as exc:  # also "File name too long"
        raise Http404("No such file.") from exc
    kind = _format_of(handle)
    if kind is None:
        handle.close()
        raise Http404("No such image.")
    response = FileResponse(handle, content_type=CONTENT_TYPES[kind])
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    # Stored names are random and never reused, so a file never changes.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _format_of(handle) -> str | None:
    """The accepted format the file's header declares, or None; reads the header only."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            kind = Image.open(handle).format
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return None
    finally:
        handle.seek(0)
    return ALLOWED_FORMATS.get(kind)
