"""What a newcomer relies on: the demo, the admin account, configuration, docker compose."""

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command

from notes.demo_content import DEMO_DIR
from notes.models import Link, Post, Series, Tag

ROOT = Path(__file__).resolve().parent.parent


class TestDemoContent:
    @pytest.mark.django_db
    def test_load_demo_fills_the_site_and_is_idempotent(self, client, capsys):
        call_command("load_demo")
        counts = (Post.objects.count(), Tag.objects.count(), Link.objects.count())
        call_command("load_demo")

        assert (Post.objects.count(), Tag.objects.count(), Link.objects.count()) == counts
        assert "0 created" in capsys.readouterr().out
        assert Post.objects.count() == len(list(DEMO_DIR.glob("*.md")))
        assert Post.objects.published().count() >= 10
        assert Post.objects.drafts().exists()
        assert Post.objects.exclude(source_url="").count() >= 4
        assert Series.objects.get().posts.count() == 3
        assert not Post.objects.exclude(broken_wikilinks="").exists()
        assert Link.objects.filter(from_wikilink=True).count() >= 10
        assert client.get("/").status_code == 200

    @pytest.mark.django_db
    def test_every_demo_formula_typesets(self):
        call_command("load_demo")
        for post in Post.objects.all():
            assert "math-error" not in post.body_html, post.slug

    @pytest.mark.django_db
    def test_if_empty_leaves_a_used_database_alone(self, capsys):
        from tests.factories import make_post

        make_post("Mine")
        call_command("load_demo", "--if-empty")
        assert list(Post.objects.values_list("title", flat=True)) == ["Mine"]


class TestFirstRun:
    def test_a_fresh_checkout_migrates_and_loads_the_demo_into_a_new_data_folder(self, tmp_path):
        """What `make run` does before serving, in a data folder that doesn't exist yet."""
        env = {
            "PATH": os.environ["PATH"],
            "DJANGO_DEBUG": "1",
            "KB_DATA_DIR": str(tmp_path / "new"),
        }
        count = "from notes.models import Post; print(Post.objects.published().count())"
        outputs = []
        for command in (
            ["migrate", "--noinput"],
            ["load_demo", "--if-empty"],
            ["ensure_admin"],
            ["shell", "-c", count],
        ):
            result = subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr[-2000:]
            outputs.append(result.stdout)
        assert (tmp_path / "new" / "kb.sqlite3").exists()
        assert "Created admin account 'admin' with password:" in outputs[2]
        password = re.search(r"password: (\S+)", outputs[2]).group(1)
        assert int(outputs[3].split()[-1]) >= 10

        # Then the server starts, and the last thing it says is how to log in, in a box.
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            said = read_until(server.stdout, "Password")
        finally:
            server.terminate()
            server.wait(timeout=30)
        box = said[said.index("+--") :].splitlines()
        assert box[0].startswith("+-") and box[-1].startswith("+-")
        assert f"| Write at  http://127.0.0.1:{port}/admin/" in box[1]
        assert "| User      admin" in box[2]
        assert f"| Password  {password}" in box[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_until(stream, marker: str, timeout: float = 60) -> str:
    """What a server printed, up to the box's last line after `marker` (or `timeout`)."""
    lines: list[str] = []
    done = threading.Event()

    def pump() -> None:
        seen = False
        for line in stream:
            lines.append(line)
            if seen and line.startswith("+-"):
                break
            seen = seen or marker in line
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    done.wait(timeout)
    return "".join(lines)


class TestAdminAccount:
    @pytest.mark.django_db
    def test_ensure_admin_generates_and_prints_a_password_once(
        self, capsys, monkeypatch, settings, tmp_path
    ):
        settings.DATA_DIR = tmp_path
        monkeypatch.delenv("KB_ADMIN_PASSWORD", raising=False)
        call_command("ensure_admin")
        first = capsys.readouterr().out
        password = re.search(r"password: (\S+)", first).group(1)
        user = get_user_model().objects.get(username="admin")
        assert user.is_superuser and user.check_password(password)

        call_command("ensure_admin")
        assert "already exists" in capsys.readouterr().out

    @pytest.mark.django_db
    def test_ensure_admin_uses_the_given_password(self, capsys, monkeypatch, settings, tmp_path):
        settings.DATA_DIR = tmp_path
        monkeypatch.setenv("KB_ADMIN_PASSWORD", "a chosen passphrase")
        call_command("ensure_admin")
        assert "a chosen passphrase" not in capsys.readouterr().out
        assert get_user_model().objects.get(username="admin").check_password("a chosen passphrase")


def django_settings(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    """Evaluate `expression` against kb.settings in a fresh process with exactly `env`."""
    return subprocess.run(
        [sys.executable, "-c", f"import kb.settings as s; print({expression})"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestConfiguration:
    def test_sqlite_in_the_data_folder_is_the_default(self):
        result = django_settings({"DJANGO_DEBUG": "1"}, "s.DATABASES['default']['NAME']")
        assert result.stdout.strip() == str(ROOT / "data" / "kb.sqlite3")

    def test_database_url_selects_postgresql(self):
        result = django_settings(
            {"DJANGO_DEBUG": "1", "DATABASE_URL": "postgres://kb:pw@db.internal:5432/notes"},
            "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST']",
        )
        assert result.stdout.strip() == "django.db.backends.postgresql db.internal"

    def test_postgresql_prepares_statements_unless_a_pooler_needs_them_off(self):
        url = {"DJANGO_DEBUG": "1", "DATABASE_URL": "postgres://kb:pw@db.internal:5432/notes"}
        options = "s.DATABASES['default'].get('OPTIONS', {})"
        on = django_settings(url, options)
        assert on.stdout.strip() == "{'server_side_binding': True, 'prepare_threshold': 5}"
        off = django_settings(url | {"DJANGO_DB_PREPARED_STATEMENTS": "0"}, options)
        assert off.stdout.strip() == "{}"

    def test_production_without_a_secret_key_refuses_to_start(self):
        result = django_settings({"DJANGO_DEBUG": "0"}, "s.SECRET_KEY")
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY is not set" in result.stderr

    def test_debug_is_off_unless_asked_for(self):
        result = django_settings({"DJANGO_SECRET_KEY": "x" * 50}, "s.DEBUG")
        assert result.stdout.strip() == "False"

    def test_a_malformed_boolean_is_a_clear_error(self):
        result = django_settings({"DJANGO_DEBUG": "maybe"}, "s.DEBUG")
        assert "DJANGO_DEBUG must be a boolean" in result.stderr

    def test_allowed_hosts_come_from_the_environment(self):
        result = django_settings(
            {"DJANGO_DEBUG": "1", "DJANGO_ALLOWED_HOSTS": "notes.example.org, kb.example.org"},
            "s.ALLOWED_HOSTS",
        )
        assert result.stdout.strip() == "['notes.example.org', 'kb.example.org']"

    def test_env_example_documents_every_variable_the_settings_read(self):
        settings_source = (ROOT / "kb" / "settings.py").read_text()
        read = set(re.findall(r'env_(?:bool|str|list)\(\s*"([A-Z_]+)"', settings_source))
        read |= {"DATABASE_URL"}
        documented = set(
            re.findall(r"^#?\s*([A-Z][A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M)
        )
        assert read - documented == set()


class TestStaticFiles:
    def test_collectstatic_builds_the_hashed_manifest_production_serves(self, tmp_path):
        result = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput"],
            cwd=ROOT,
            env={
                "PATH": os.environ["PATH"],
                "DJANGO_SECRET_KEY": "collectstatic-test-key",
                "KB_STATIC_ROOT": str(tmp_path),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        manifest = (tmp_path / "staticfiles.json").read_text()
        for asset in ("css/site.css", "css/math.css", "katex/fonts/KaTeX_Main-Regular.woff2"):
            assert f'"{asset}"' in manifest
        assert list(tmp_path.glob("css/site.*.css.gz"))


class TestDockerCompose:
    def test_compose_declares_postgres_and_the_web_service(self):
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        db, web = compose["services"]["db"], compose["services"]["web"]

        assert db["image"].startswith("postgres:16")
        assert "pg_isready" in " ".join(db["healthcheck"]["test"])
        assert any(v.split(":")[0] in compose["volumes"] for v in db["volumes"])
        assert web["build"] == "."
        assert web["depends_on"]["db"]["condition"] == "service_healthy"
        # Loopback only: a client elsewhere must come through the proxy, not around it.
        assert web["ports"] == ["127.0.0.1:8000:8000"]
        assert web["environment"]["DATABASE_URL"].startswith("postgres://")
        assert "@db:5432/" in web["environment"]["DATABASE_URL"]
        assert web["environment"]["DJANGO_DEBUG"] == "0"
        assert web["environment"]["KB_SERVE_MEDIA"] == "1"
        assert "media:/data/media" in web["volumes"]
        assert "DJANGO_SECRET_KEY" in web["environment"]

    def test_dockerfile_runs_migrations_collectstatic_and_gunicorn(self):
        dockerfile = (ROOT / "Dockerfile").read_text()
        assert "FROM python:3.11" in dockerfile
        assert "collectstatic --noinput" in dockerfile
        assert "migrate --noinput" in dockerfile
        assert "gunicorn -c kb/gunicorn_conf.py kb.wsgi:application" in dockerfile


class TestReadme:
    def test_readme_starts_with_the_two_commands(self):
        readme = (ROOT / "README.md").read_text()
        first_commands = re.findall(r"^make \w+", readme, re.M)[:2]
        assert first_commands == ["make run", "make test"]
