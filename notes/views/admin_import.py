"""The admin's Import and Export pages for posts.

Import is two steps: the upload is checked and dry-run, the report is shown, and only the
confirmation writes. Between the steps the upload waits in a private temporary folder named by a
random token that only the uploader's session knows.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from django import forms
from django.contrib import messages
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
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or ":" in member.filename:
                raise UploadRefused(f"The archive holds a file with an unsafe name: {name}")
            if name.suffix.lower() != ".md" and name.suffix.lower() not in MEDIA_EXTENSIONS:
                continue
            target = destination.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)


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
        except UploadRefused:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return token


def _run(request: HttpRequest, token: str, options: dict, *, dry_run: bool) -> ImportReport:
    folder = STAGING_DIR / token
    feed = next(folder.glob("upload.*"))
    if feed.suffix == ".zip":
        return import_markdown(
            [folder / "files"],
            author=request.user,
            skip_invalid=options["skip_invalid"],
            dry_run=dry_run,
        )
    return import_feed(
        feed.read_bytes(),
        label=options.get("name") or "the feed",
        author=request.user,
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
