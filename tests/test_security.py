"""What an attacker, a crawler or a load balancer meets: deploy settings, headers, login
throttling, image uploads, input limits, NUL bytes, health checks and failure pages."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client, override_settings

from notes.logging import JsonFormatter
from notes.models import Post, Tag
from tests.factories import admin_post_form, image_bytes, make_post, make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
UPLOAD_URL = "/admin/markdownx/upload/"
LOGIN_URL = "/admin/login/"
PASSWORD = "correct horse battery staple"


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "kb-test-3f9a1c77e2b04d5e8a6c1b2d9e0f4a7c5b3d8e1f6a2c9b7d4e0f1a3c5b",
    "DJANGO_ALLOWED_HOSTS": "notes.example.org",
    "DJANGO_BEHIND_PROXY": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_COOKIES": "1",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_HSTS_PRELOAD": "1",
}


def readme_deployment_environment() -> dict[str, str]:
    """The variables the README's Deployment section lists, with its placeholders filled."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)[1]
    env = dict(line.strip().split("=", 1) for line in block.splitlines() if "=" in line)
    env["DJANGO_SECRET_KEY"] = PRODUCTION["DJANGO_SECRET_KEY"]
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("<password>", "secret")
    assert not [value for value in env.values() if "<" in value], env
    return env


class TestDeploySettings:
    def test_production_environment_passes_the_deploy_check(self):
        result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_the_readmes_own_list_passes_the_deploy_check(self):
        env = readme_deployment_environment()
        assert {"DJANGO_ALLOWED_HOSTS", "DJANGO_HSTS_SECONDS", "DJANGO_BEHIND_PROXY"} <= set(env)

        result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_the_deploy_check_catches_a_missing_hsts_setting(self):
        env = {**PRODUCTION, "DJANGO_HSTS_SECONDS": "0"}
        result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
        assert result.returncode != 0
        assert "security.W004" in result.stderr + result.stdout


class TestHeaders:
    @pytest.mark.parametrize("path", ["/", "/tags/", "/no-such-page/", LOGIN_URL])
    def test_html_responses_carry_a_strict_content_security_policy(self, client, path):
        make_post("Something to list")
        response = client.get(path)
        policy = dict(
            [*part.strip().split(" ", 1), ""][:2]
            for part in response["Content-Security-Policy"].split(";")
        )
        assert policy["default-src"] == "'self'"
        # Not 'self': that would let a page run a script from /media/.
        assert policy["script-src"] == "http://testserver/static/ http://testserver/admin/jsi18n/"
        assert policy["object-src"] == "'none'"
        assert policy["base-uri"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"
        assert "unsafe" not in response["Content-Security-Policy"]

    def test_the_editor_page_carries_the_policy_too(self, staff_client):
        response = staff_client.get("/admin/notes/post/add/")
        assert "script-src http://testserver/static/ " in response["Content-Security-Policy"]

    def test_scripts_come_from_the_static_files_host_even_on_another_origin(self, client, settings):
        settings.STATIC_URL = "https://static.example.net/kb/"
        settings.ALLOWED_HOSTS = ["notes.example.org"]
        response = client.get("/", headers={"Host": "notes.example.org"})
        assert (
            "script-src https://static.example.net/kb/ http://notes.example.org/admin/"
            in (response["Content-Security-Policy"])
        )

    def test_no_script_source_covers_the_media_folder(self, client):
        """A file brought in as media must never run as a page's script, even if a post's HTML
        named it; only the static files' folder may."""
        policy = client.get("/")["Content-Security-Policy"]
        sources = re.search(r"script-src ([^;]+)", policy)[1].split()
        media_script = "http://testserver/media/x.js"
        assert "'self'" not in sources and "*" not in sources
        assert not [s for s in sources if s.endswith("/") and media_script.startswith(s)]

    def test_referrer_policy_nosniff_and_request_id(self, client):
        response = client.get("/")
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])

    def test_an_incoming_request_id_is_kept_only_behind_a_proxy(self, client):
        own = client.get("/", headers={"X-Request-ID": "lb-0123456789"})
        assert own["X-Request-ID"] != "lb-0123456789"
        with override_settings(KB_BEHIND_PROXY=True):
            kept = client.get("/", headers={"X-Request-ID": "lb-0123456789"})
        assert kept["X-Request-ID"] == "lb-0123456789"


def failed_login(client: Client, username: str = "owner", **headers) -> object:
    return client.post(
        LOGIN_URL, {"username": username, "password": "wrong guess"}, headers=headers
    )


class TestLoginThrottling:
    @pytest.fixture
    def owner(self, db):
        return make_user("owner", staff=True, is_superuser=True)

    def test_after_five_failures_even_the_right_password_is_refused(self, owner, settings):
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert failed_login(client).status_code == 200
        locked = failed_login(client)
        assert locked.status_code == 429
        assert "Too many failed log-ins" in locked.text
        assert "Try again in 60 minutes" in locked.text

        right = client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})
        assert right.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_a_lockout_is_per_user_and_address(self, owner, settings):
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            failed_login(client)
        elsewhere = Client(REMOTE_ADDR="198.51.100.7")
        response = elsewhere.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})
        assert response.status_code == 302
        assert failed_login(client, username="someone-else").status_code == 200

    def test_the_cool_off_ends_the_lockout(self, owner, settings):
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            failed_login(client)
        settings.AXES_COOLOFF_TIME = 1 / 3600 / 1000  # a millisecond
        response = client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})
        assert response.status_code == 302

    @override_settings(KB_BEHIND_PROXY=True, KB_PROXY_COUNT=1)
    def test_behind_a_proxy_the_forwarded_client_address_is_locked(self, owner, settings):
        client = Client(REMOTE_ADDR="10.0.0.2")  # the proxy
        # The left entry is what the attacker sent; the proxy appended the address it saw.
        attacker = {"X-Forwarded-For": "192.0.2.1, 203.0.113.9"}
        for _ in range(settings.AXES_FAILURE_LIMIT):
            failed_login(client, **attacker)
        assert failed_login(client, **attacker).status_code == 429
        # Changing the forged part does not help; another real client is not locked out.
        forged = {"X-Forwarded-For": "192.0.2.99, 203.0.113.9"}
        assert failed_login(client, **forged).status_code == 429
        owner_from_home = {"X-Forwarded-For": "198.51.100.20"}
        response = client.post(
            LOGIN_URL, {"username": "owner", "password": PASSWORD}, headers=owner_from_home
        )
        assert response.status_code == 302

    @override_settings(KB_BEHIND_PROXY=True, KB_PROXY_COUNT=1)
    def test_a_client_reaching_gunicorn_directly_cannot_rotate_the_forwarded_header(
        self, owner, settings
    ):
        client = Client(REMOTE_ADDR="203.0.113.50")  # on the internet, not our proxy
        for n in range(settings.AXES_FAILURE_LIMIT):
            failed_login(client, **{"X-Forwarded-For": f"192.0.2.{n}"})
        response = client.post(
            LOGIN_URL,
            {"username": "owner", "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.200"},
        )
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session

    @override_settings(KB_BEHIND_PROXY=True)
    def test_only_the_named_proxy_is_trusted_when_one_is_named(self, owner, settings):
        import ipaddress

        settings.KB_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.2/32")]
        neighbour = Client(REMOTE_ADDR="10.0.0.3")
        for n in range(settings.AXES_FAILURE_LIMIT):
            failed_login(neighbour, **{"X-Forwarded-For": f"192.0.2.{n}"})
        assert failed_login(neighbour, **{"X-Forwarded-For": "192.0.2.77"}).status_code == 429
        proxy = Client(REMOTE_ADDR="10.0.0.2")
        assert failed_login(proxy, **{"X-Forwarded-For": "192.0.2.78"}).status_code == 200

    def test_force_login_in_tests_still_works(self, staff_client):
        assert staff_client.get("/admin/").status_code == 200


png_bytes = image_bytes


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: decoding it would need width * height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


class TestImageUploads:
    @pytest.fixture(autouse=True)
    def media(self, tmp_path, settings):
        settings.MEDIA_ROOT = tmp_path / "media"
        return settings.MEDIA_ROOT

    def upload(self, client, name: str, data: bytes, content_type: str = "image/png"):
        return client.post(
            UPLOAD_URL,
            {"image": SimpleUploadedFile(name, data, content_type=content_type)},
            headers={"X-Requested-With": "XMLHttpRequest"},
        )

    def test_a_png_is_stored_under_a_random_name_and_returned_as_markdown(
        self, staff_client, media
    ):
        response = self.upload(staff_client, "diagram.png", png_bytes())
        assert response.status_code == 200
        code = response.json()["image_code"]
        match = re.fullmatch(r"!\[\]\(/media/uploads/\d{4}/\d{2}/([0-9a-f]{32})\.png\)", code)
        assert match, code
        [stored] = stored_files(media)
        assert stored.name == f"{match.group(1)}.png"
        assert stored.read_bytes() == png_bytes()

    def test_kb_can_serve_an_uploaded_image_as_inert_data(self, staff_client, client, settings):
        settings.KB_SERVE_MEDIA = True
        url = re.search(
            r"\((.+)\)", self.upload(staff_client, "a.png", png_bytes()).json()["image_code"]
        )[1]

        response = client.get(url)

        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content) == png_bytes()
        escape = client.get("/media/%2e%2e/kb/settings.py")
        assert escape.status_code in (400, 404) and b"SECRET_KEY" not in escape.content
        assert client.get("/media/uploads/missing.png").status_code == 404

    def test_a_media_file_is_sent_with_the_type_pillow_reads_not_its_name(
        self, client, settings, media
    ):
        settings.KB_SERVE_MEDIA = True
        (media / "uploads").mkdir(parents=True)
        (media / "uploads" / "x.js").write_bytes(b"alert(document.domain)")
        (media / "uploads" / "x.png").write_bytes(b"<!doctype html><script>alert(1)</script>")
        (media / "uploads" / "picture.html").write_bytes(png_bytes())

        assert client.get("/media/uploads/x.js").status_code == 404
        assert client.get("/media/uploads/x.png").status_code == 404
        disguised = client.get("/media/uploads/picture.html")
        assert disguised.status_code == 200
        assert disguised["Content-Type"] == "image/png"
        assert disguised["X-Content-Type-Options"] == "nosniff"
        assert client.head("/media/uploads/picture.html").status_code == 200
        assert client.post("/media/uploads/picture.html").status_code == 405

    def test_a_name_too_long_for_the_file_system_or_hidden_is_a_404(self, client, settings, media):
        settings.KB_SERVE_MEDIA = True
        (media / ".restoring" / "t").mkdir(parents=True)
        (media / ".restoring" / "t" / "a.png").write_bytes(png_bytes())
        assert client.get("/media/uploads/" + "a" * 300 + ".png").status_code == 404
        assert client.get("/media/" + "/".join(["abc"] * 2000)).status_code == 404
        assert client.get("/media/.restoring/t/a.png").status_code == 404

    @staticmethod
    def photo_with_location() -> bytes:
        """A JPEG as a phone writes it: 40 by 20 pixels stored sideways (orientation 6, "turn
        90° clockwise to view"), with a GPS position, the camera's serial number and XMP."""
        from PIL import Image

        exif = Image.Exif()
        exif[0x0112] = 6  # Orientation
        exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
        exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
        xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/>Home</x:xmpmeta>'
        return image_bytes((40, 20), "JPEG", exif=exif.tobytes(), xmp=xmp)

    def test_a_photos_location_and_camera_are_stripped_and_its_orientation_applied(
        self, staff_client, media
    ):
        from PIL import Image

        original = self.photo_with_location()
        with Image.open(io.BytesIO(original)) as before:
            assert before.getexif().get_ifd(0x8825) and "xmp" in before.info

        assert self.upload(staff_client, "me.jpg", original, "image/jpeg").status_code == 200

        [stored] = stored_files(media)
        data = stored.read_bytes()
        assert b"SERIAL-12345" not in data and b"xmpmeta" not in data
        with Image.open(stored) as after:
            assert dict(after.getexif()) == {} and "xmp" not in after.info
            assert after.size == (20, 40)  # turned upright, as the camera meant

    def test_png_text_and_exif_chunks_are_stripped_too(self, staff_client, media):
        from PIL import Image, PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Location", "51.5, -0.12")
        exif = Image.Exif()
        exif[0xA431] = "SERIAL-999"
        self.upload(staff_client, "s.png", image_bytes(fmt="PNG", pnginfo=info, exif=exif))

        [stored] = stored_files(media)
        assert b"51.5, -0.12" not in stored.read_bytes()
        assert b"SERIAL-999" not in stored.read_bytes()

    def test_a_setting_keeps_the_metadata_for_those_who_want_it(
        self, staff_client, media, settings
    ):
        settings.KB_UPLOAD_KEEP_METADATA = True
        original = self.photo_with_location()
        self.upload(staff_client, "me.jpg", original, "image/jpeg")
        [stored] = stored_files(media)
        assert stored.read_bytes() == original

    def test_media_are_left_to_the_web_server_unless_asked(self, staff_client, client, settings):
        settings.KB_SERVE_MEDIA = False
        url = re.search(
            r"\((.+)\)", self.upload(staff_client, "a.png", png_bytes()).json()["image_code"]
        )[1]
        assert client.get(url).status_code == 404

    @pytest.mark.parametrize(
        ("fmt", "extension"), [("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp")]
    )
    def test_the_extension_comes_from_the_decoded_format_not_the_name(
        self, staff_client, media, fmt, extension
    ):
        response = self.upload(staff_client, "photo.png", png_bytes(fmt=fmt), "image/png")
        assert response.status_code == 200
        [stored] = stored_files(media)
        assert stored.suffix == f".{extension}"

    @pytest.mark.parametrize(
        ("name", "data", "content_type"),
        [
            ("x.png", b"<!doctype html><script>alert(document.cookie)</script>", "image/png"),
            (
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
                "image/svg+xml",
            ),
            (
                "logo.png",
                b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
                "image/png",
            ),
            ("notes.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "application/pdf"),
        ],
    )
    def test_anything_that_is_not_a_raster_image_is_refused(
        self, staff_client, media, name, data, content_type
    ):
        response = self.upload(staff_client, name, data, content_type)
        assert response.status_code == 400
        assert "not an image kb accepts" in response.json()["image"][0]
        assert stored_files(media) == []

    def test_a_bmp_is_an_image_but_not_an_accepted_format(self, staff_client, media):
        response = self.upload(staff_client, "old.png", png_bytes(fmt="BMP"))
        assert response.status_code == 400
        assert "BMP images are not accepted" in response.json()["image"][0]
        assert stored_files(media) == []

    def test_a_decompression_bomb_is_refused_before_decoding(self, staff_client, media):
        response = self.upload(staff_client, "huge.png", png_header_only(20_000, 20_000))
        assert response.status_code == 400
        assert "too many pixels" in response.json()["image"][0]
        assert stored_files(media) == []

    def test_an_image_over_kbs_own_pixel_limit_is_refused(self, staff_client, media, settings):
        settings.KB_UPLOAD_MAX_PIXELS = 10_000
        response = self.upload(staff_client, "wide.png", png_header_only(200, 100))
        assert response.status_code == 400
        assert "200 by 100 pixels" in response.json()["image"][0]
        assert stored_files(media) == []

    def test_a_truncated_png_is_refused_with_a_message(self, staff_client, media):
        whole = png_bytes((64, 64))
        response = self.upload(staff_client, "cut.png", whole[: len(whole) // 2])
        assert response.status_code == 400
        assert "damaged or incomplete" in response.json()["image"][0]
        assert stored_files(media) == []

    def test_a_path_in_the_file_name_is_ignored(self, staff_client, media):
        response = self.upload(staff_client, "../../../../etc/cron.d/evil.png", png_bytes())
        assert response.status_code == 200
        [stored] = stored_files(media)
        assert stored.parent.parent.parent == media / "uploads"
        assert "evil" not in response.json()["image_code"]

    def test_a_file_over_the_size_limit_is_refused(self, staff_client, media, settings):
        settings.KB_UPLOAD_MAX_BYTES = 1024
        response = self.upload(staff_client, "big.png", png_bytes((300, 300), "BMP")[:2048])
        assert response.status_code == 413
        assert "larger than" in response.json()["image"][0]
        assert stored_files(media) == []

    def test_only_staff_may_upload(self, client, media):
        client.force_login(make_user("reader"))
        response = self.upload(client, "a.png", png_bytes())
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)
        assert stored_files(media) == []

    def test_the_upload_endpoint_only_accepts_posts(self, staff_client):
        assert staff_client.get(UPLOAD_URL).status_code == 405


class TestInputLimits:
    @pytest.mark.parametrize("field", ["title", "body", "summary", "tags", "slug", "source_url"])
    def test_a_nul_byte_in_a_post_field_is_a_form_error(self, staff_client, staff_user, field):
        values = {"title": "A title", "body": "Some text.", "source_url": "https://example.org"}
        form = admin_post_form(author=str(staff_user.pk), **values)
        form[field] = form.get(field, "") + "a\x00b"
        response = staff_client.post("/admin/notes/post/add/", form)
        assert response.status_code == 200
        assert "errornote" in response.text
        assert not Post.objects.exists()

    def test_a_nul_byte_in_a_tag_name_is_a_form_error(self, staff_client):
        response = staff_client.post("/admin/notes/tag/add/", {"name": "dif\x00fusion"})
        assert response.status_code == 200
        assert "Null characters are not allowed" in response.text
        assert not Tag.objects.exists()

    @pytest.mark.parametrize(
        "path",
        [
            "/posts/a%00b/",
            "/tags/%00/",
            "/admin/notes/post/a%00/change/",
        ],
    )
    def test_a_nul_byte_in_a_path_is_a_404_not_a_server_error(self, staff_client, path):
        make_post("Present")
        response = staff_client.get(path)
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "path",
        [
            "/?page=%00",
            "/search/?q=%00",
            "/search/?q=needle&tag=a%00b",
            "/admin/notes/post/?q=a%00b",
            "/admin/notes/post/?status=%00",
            "/admin/autocomplete/?term=%00&app_label=notes&model_name=post&field_name=tags",
        ],
    )
    def test_a_nul_byte_in_a_query_is_a_clear_400(self, staff_client, path):
        make_post("Present")
        response = staff_client.get(path)
        assert response.status_code == 400
        assert "NUL character" in response.content.decode()

    def test_a_nul_byte_in_the_login_form_is_not_a_server_error(self, client):
        response = client.post(LOGIN_URL, {"username": "own\x00er", "password": "x"})
        assert response.status_code == 200

    def test_too_many_fields_are_refused(self, staff_client, settings):
        fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
        response = staff_client.post("/admin/notes/post/add/", fields)
        assert response.status_code == 400

    def test_an_oversized_body_is_refused(self, staff_client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        response = staff_client.post("/admin/notes/post/add/", {"body": "x" * 20_000})
        assert response.status_code == 400

    def test_markdown_over_the_length_limit_is_a_form_error(self, staff_client, staff_user):
        from notes.models import MAX_BODY_CHARS

        form = admin_post_form(author=str(staff_user.pk), body="x" * (MAX_BODY_CHARS + 1))
        response = staff_client.post("/admin/notes/post/add/", form)
        assert response.status_code == 200
        assert "a post holds at most 250000. Split it into a series" in response.text
        assert not Post.objects.exists()


class TestHealthAndFailurePages:
    def test_healthz_checks_the_database(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
        assert "no-cache" in response["Cache-Control"]

    def test_healthz_is_503_when_the_database_is_down(self, client):
        with mock.patch.object(
            connection, "cursor", side_effect=OperationalError("connection refused")
        ):
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"

    def test_a_database_outage_shows_the_503_page(self):
        client = Client(raise_request_exception=False)
        with mock.patch.object(
            connection, "cursor", side_effect=OperationalError("connection refused")
        ):
            response = client.get("/")
        assert response.status_code == 503
        assert "unavailable" in response.text.lower()
        assert "Traceback" not in response.text
        assert response["Retry-After"] == "30"

    def test_a_bug_shows_the_500_page_in_the_sites_design(self):
        client = Client(raise_request_exception=False)
        with mock.patch(
            "notes.views.reading.PostListView.get_queryset", side_effect=RuntimeError("bug")
        ):
            response = client.get("/")
        assert response.status_code == 500
        assert "Something went wrong" in response.text
        assert 'class="site-header"' in response.text
        assert "Content-Security-Policy" in response

    def test_the_404_page_is_in_the_sites_design(self, client):
        response = client.get("/posts/never-written/")
        assert response.status_code == 404
        assert 'class="site-header"' in response.text
        assert "There is nothing at this address" in response.text

    def test_the_403_page_is_in_the_sites_design(self, client):
        client.force_login(make_user("helper", staff=True))  # staff, no permission on posts
        response = client.get("/admin/notes/post/trash/")
        assert response.status_code == 403
        assert "Not allowed" in response.text
        assert 'class="site-header"' in response.text


class TestStructuredLogging:
    def test_an_error_is_logged_as_json_with_its_request_id_and_context(self):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger("django.request")
        logger.addHandler(handler)
        client = Client(raise_request_exception=False)
        try:
            with mock.patch(
                "notes.views.reading.PostListView.get_queryset",
                side_effect=RuntimeError("the list broke"),
            ):
                response = client.get("/?page=1")
        finally:
            logger.removeHandler(handler)
        [line] = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert line["level"] == "ERROR"
        assert line["request_id"] == response["X-Request-ID"]
        assert line["method"] == "GET"
        assert line["path"] == "/"
        assert line["status_code"] == 500
        assert "RuntimeError: the list broke" in line["exception"]


class TestReadOnlyPages:
    """Public pages take GET and HEAD; anything else is a 405 that names what they take."""

    @pytest.mark.parametrize(
        "path",
        [
            "/",
            "/posts/open/",
            "/tags/",
            "/tags/maths/",
            "/tags/maths/feed/",
            "/search/?q=open",
            "/archive/",
            "/feed/",
            "/index.xml",
            "/sitemap.xml",
            "/index.json",
            "/llms.txt",
            "/robots.txt",
        ],
    )
    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_other_methods_are_refused_with_405(self, client, path, method):
        tag = Tag.objects.create(name="maths")
        make_post("Open", slug="open", tags=[tag])

        response = getattr(client, method)(path)

        assert response.status_code == 405, (method, path)
        assert "GET" in response["Allow"]
        assert client.head(path).status_code == 200


class TestFeedImportFromTheNetwork:
    """`import_feed URL` fetches as capture does: never from this machine or a private network
    unless the operator names the host, and not by way of a redirect either."""

    FEED = Path(__file__).parent / "import_fixtures" / "feeds"

    def feed_bytes(self) -> bytes:
        return next(self.FEED.glob("*.xml")).read_bytes()

    def run(self, url: str) -> str:
        from django.core.management import call_command

        out = io.StringIO()
        call_command("import_feed", url, "--author", "feeder", stdout=out)
        return out.getvalue()

    def test_loopback_and_private_addresses_are_refused_before_any_request(self, settings):
        from django.core.management.base import CommandError

        from tests.webserver import Answer, FixtureServer

        make_user("feeder", staff=True, is_superuser=True)
        settings.KB_FETCH_ALLOWED_HOSTS = []
        with FixtureServer() as server:
            server.routes["/feed.xml"] = Answer(
                body=self.feed_bytes(), headers={"Content-Type": "application/atom+xml"}
            )
            for url in (server.url("/feed.xml"), "http://10.0.0.1/feed.xml", "http://[::1]/x"):
                with pytest.raises(CommandError, match="not a public address"):
                    self.run(url)
            assert server.requests == []
        assert not Post.objects.exists()

    def test_a_redirect_to_this_machine_is_refused(self, settings):
        from django.core.management.base import CommandError

        from tests.webserver import Answer, FixtureServer

        make_user("feeder", staff=True, is_superuser=True)
        with FixtureServer() as outside, FixtureServer() as inside:
            inside.routes["/secret.xml"] = Answer(body=self.feed_bytes())
            outside.routes["/feed.xml"] = Answer(
                302, headers={"Location": inside.url("/secret.xml")}
            )
            # Only the "outside" server counts as allowed; the one it redirects to does not.
            settings.KB_FETCH_ALLOWED_HOSTS = [outside.host]
            with pytest.raises(CommandError):
                self.run(outside.url("/feed.xml"))
            assert inside.requests == []
        assert not Post.objects.exists()

    def test_an_allowed_host_is_fetched_and_imported(self, settings):
        from tests.webserver import Answer, FixtureServer

        make_user("feeder", staff=True, is_superuser=True)
        with FixtureServer() as server:
            server.routes["/feed.xml"] = Answer(
                body=self.feed_bytes(), headers={"Content-Type": "application/atom+xml"}
            )
            settings.KB_FETCH_ALLOWED_HOSTS = [server.host]
            self.run(server.url("/feed.xml"))
        assert Post.objects.exists()


class TestImportedMedia:
    """An import copies images as the editor's upload keeps them: without the camera's
    metadata, and only the kinds media may hold, so what was imported can be served and
    restored from a backup."""

    def test_an_imported_photo_loses_its_location_and_a_pdf_is_reported(self, tmp_path, settings):
        from PIL import Image

        from notes.importing import import_markdown

        settings.MEDIA_ROOT = str(tmp_path / "media")
        site = tmp_path / "notes"
        site.mkdir()
        (site / "me.jpg").write_bytes(TestImageUploads.photo_with_location())
        (site / "paper.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n")
        (site / "trip.md").write_text(
            "---\ntitle: A trip\n---\n![Me](me.jpg)\n\nThe [paper](paper.pdf).\n"
        )

        report = import_markdown([site], author=make_user("importer"))

        [stored] = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
        assert stored.suffix == ".jpg"
        assert b"SERIAL-12345" not in stored.read_bytes()
        with Image.open(stored) as image:
            assert dict(image.getexif()) == {} and image.size == (20, 40)
        assert any("paper.pdf" in str(w) and "not copied" in str(w) for w in report.warnings)
        assert "paper.pdf" in Post.objects.get().body
