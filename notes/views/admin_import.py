"""The admin's Import and Export pages for posts.

Import is two steps: the upload is checked and dry-run, the report is shown, and only the
confirmation writes. Between the steps the upload waits in a private temporary folder named by a
random token that only the uploader's session knows.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from notes.exporters import export_to_zip
from notes.importing import (
    MEDIA_EXTENSIONS,
    ImportReport,
    InvalidImport,
    import_feed,
    import_markdown,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ZIP_FILES = 20_000
MAX_ZIP_UNPACKED_BYTES = 200 * 1024 * 1024
# More posts than one request can import within a worker's timeout: the command line does it.
MAX_POSTS_PER_REQUEST = 2_000
MAX_MEMBER_NAME_CHARS = 400
MAX_NAME_PART_CHARS = 200
# Besides posts and media, what tells a site apart: its configuration files.
SITE_FILE_SUFFIXES = frozenset({".md", ".markdown", ".yml", ".yaml", ".toml", ".json"})
# An upload nobody confirmed is removed after this long.
STAGING_MAX_AGE_SECONDS = 6 * 3600
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".feed"})
STAGING_DIR = Path(tempfile.gettempdir()) / "kb-admin-imports"
SESSION_KEY = "kb_import_uploads"
REPORT_LIST_LIMIT = 200


class UploadRefused(ValueError):
    """The upload can't be imported at all; the message says why, for the author."""


class ImportForm(forms.Form):
    upload = forms.FileField(
        label="File",
        help_text="A .zip of Markdown files (folders and images included), or an RSS/Atom feed "
        f"(.xml, .rss, .atom). At most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip invalid files",
        help_text="Import the valid files and list the others, instead of importing nothing.",
    )
    tag = forms.CharField(
        required=False, max_length=64, help_text="Feeds: add this tag to every imported post."
    )
    draft = forms.BooleanField(required=False, help_text="Feeds: import the posts as drafts.")
    author = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_staff=True).order_by("username"),
        required=False,
        help_text="Who wrote posts whose front matter names nobody (or nobody with an "
        "account here). Empty: you.",
    )

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        suffix = Path(upload.name).suffix.lower()
        if suffix != ".zip" and suffix not in FEED_SUFFIXES:
            raise forms.ValidationError("Upload a .zip of Markdown files or a feed (.xml).")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; "
                f"the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )
        return upload


class ConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    skip_invalid = forms.BooleanField(required=False, widget=forms.HiddenInput)
    tag = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    draft = forms.BooleanField(required=False, widget=forms.HiddenInput)
    author = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_staff=True),
        required=False,
        widget=forms.HiddenInput,
    )


def extract_zip(archive_path: Path, destination: Path) -> None:
    """Unpack the Markdown files and media of an upload, refusing archives that would escape
    `destination` or unpack into more files or bytes than a notes folder plausibly has."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except zipfile.BadZipFile:
        raise UploadRefused("The file is not a valid zip archive.") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise UploadRefused(f"The archive has more than {MAX_ZIP_FILES:,} files.")
        if sum(m.file_size for m in members) > MAX_ZIP_UNPACKED_BYTES:
            limit = MAX_ZIP_UNPACKED_BYTES // (1024 * 1024)
            raise UploadRefused(f"The archive unpacks to more than {limit} MB.")
        for member in members:
            name = _member_name(member)
            suffix = name.suffix.lower()
            if suffix not in SITE_FILE_SUFFIXES and suffix not in MEDIA_EXTENSIONS:
                continue
            target = destination.joinpath(*name.parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
            except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
                # A bad CRC, a truncated member, an unsupported compression or a password.
                reason = str(error).split(" for file ")[0].rstrip(".")
                raise UploadRefused(f"The archive's file {name} can't be read: {reason}.") from None
            except OSError:
                raise UploadRefused(f"The archive's file {name} can't be unpacked.") from None


def _member_name(member: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path inside the archive, refused when it could escape the folder, hold a NUL
    or be longer than a file system allows. Messages name the member, never a server path."""
    raw = member.filename
    shown = raw.replace("\x00", "\\0")[:120]
    if "\x00" in raw or any(ord(c) < 32 for c in raw):
        raise UploadRefused(f"The archive holds a file whose name has control characters: {shown}")
    name = PurePosixPath(raw.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or ":" in raw:
        raise UploadRefused(f"The archive holds a file with an unsafe name: {shown}")
    if len(raw) > MAX_MEMBER_NAME_CHARS or any(len(p) > MAX_NAME_PART_CHARS for p in name.parts):
        raise UploadRefused(f"The archive holds a file whose name is too long: {shown}…")
    return name


def _site_root(folder: Path) -> Path:
    """Where the site starts in an unpacked archive: a zip of a folder holds just that folder."""
    entries = [p for p in folder.iterdir()] if folder.is_dir() else []
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].name.startswith("."):
        return _site_root(entries[0])
    return folder


def remove_stale_uploads(now: float | None = None) -> None:
    """Uploads staged and never confirmed (the author left the page) are removed."""
    now = now or time.time()
    if not STAGING_DIR.is_dir():
        return
    for folder in STAGING_DIR.iterdir():
        try:
            if now - folder.stat().st_mtime > STAGING_MAX_AGE_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _stage(upload) -> str:
    token = secrets.token_hex(16)
    folder = STAGING_DIR / token
    folder.mkdir(parents=True, mode=0o700)
    suffix = Path(upload.name).suffix.lower()
    with (folder / f"upload{suffix}").open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    if suffix == ".zip":
        try:
            extract_zip(folder / "upload.zip", folder / "files")
            posts = sum(
                1 for p in (folder / "files").rglob("*") if p.suffix.lower() in {".md", ".markdown"}
            )
            if posts > MAX_POSTS_PER_REQUEST:
                raise UploadRefused(
                    f"The archive holds {posts:,} Markdown files, more than one page can import "
                    f"(at most {MAX_POSTS_PER_REQUEST:,}). Unpack it on the server and run "
                    "`python manage.py import_markdown FOLDER`, which shows its progress."
                )
        except UploadRefused:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return token


def _run(request: HttpRequest, token: str, options: dict, *, dry_run: bool) -> ImportReport:
    folder = STAGING_DIR / token
    feed = next(folder.glob("upload.*"))
    author = options.get("author") or request.user
    if feed.suffix == ".zip":
        return import_markdown(
            [_site_root(folder / "files")],
            author=author,
            skip_invalid=options["skip_invalid"],
            dry_run=dry_run,
        )
    return import_feed(
        feed.read_bytes(),
        label=options.get("name") or "the feed",
        author=author,
        extra_tags=[options["tag"]] if options["tag"] else [],
        draft=options["draft"],
        dry_run=dry_run,
    )


def _page(request: HttpRequest, model_admin, **context) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Import posts",
        "limit": REPORT_LIST_LIMIT,
        **context,
    }
    return TemplateResponse(request, "admin/notes/post/import.html", context)


def import_view(request: HttpRequest, model_admin) -> HttpResponse:
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    remove_stale_uploads()
    staged: list[str] = request.session.get(SESSION_KEY, [])
    if request.method == "POST" and "token" in request.POST:
        confirm = ConfirmForm(request.POST)
        if not confirm.is_valid() or confirm.cleaned_data["token"] not in staged:
            messages.error(request, "That upload has expired; upload the file again.")
            return HttpResponseRedirect(request.path)
        token = confirm.cleaned_data["token"]
        try:
            report = _run(request, token, confirm.cleaned_data, dry_run=False)
        except InvalidImport as error:
            # The data changed since the dry run (another import, an edit): show why.
            return _page(request, model_admin, form=ImportForm(), problems=error.problems)
        finally:
            shutil.rmtree(STAGING_DIR / token, ignore_errors=True)
            request.session[SESSION_KEY] = [t for t in staged if t != token]
        messages.success(request, f"Imported: {report.summary()}.")
        return HttpResponseRedirect(reverse("admin:notes_post_changelist"))

    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return _page(request, model_admin, form=form)
    options = {**form.cleaned_data, "name": form.cleaned_data["upload"].name}
    try:
        token = _stage(form.cleaned_data["upload"])
    except UploadRefused as error:
        form.add_error("upload", str(error))
        return _page(request, model_admin, form=form)
    try:
        report = _run(request, token, options, dry_run=True)
    except InvalidImport as error:
        shutil.rmtree(STAGING_DIR / token, ignore_errors=True)
        return _page(request, model_admin, form=form, problems=error.problems)
    except BaseException:
        shutil.rmtree(STAGING_DIR / token, ignore_errors=True)
        raise
    request.session[SESSION_KEY] = [*staged, token]
    confirm = ConfirmForm(initial={"token": token, **options})
    return _page(request, model_admin, report=report, confirm=confirm)


@require_GET
def export_view(request: HttpRequest, model_admin) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    # FileResponse closes the file once it has been sent.
    file = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    export_to_zip(file)
    file.seek(0)
    name = f"kb-export-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(file, as_attachment=True, filename=name, content_type="application/zip")


def admin_urls(model_admin) -> list[URLPattern]:
    """The pages, for `PostAdmin.get_urls`, behind the admin's login."""
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "import/",
            wrap(lambda request: import_view(request, model_admin)),
            name="notes_post_import",
        ),
        path(
            "export/",
            wrap(lambda request: export_view(request, model_admin)),
            name="notes_post_export",
        ),
    ]
