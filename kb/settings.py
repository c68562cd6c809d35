"""kb's one settings module: everything that differs between machines comes from the environment.

Every variable is listed, with its default, in `.env.example`.
"""

import ipaddress
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


DEBUG = env_bool("DJANGO_DEBUG", False)

# A fixed development key is only acceptable while DEBUG is on; production must set one.
_DEV_SECRET_KEY = "django-insecure-kb-development-key-do-not-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # A forgotten key in production must fail loudly; the test run gets the development key.
    if not DEBUG and "pytest" not in sys.modules:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (see .env.example), or set DJANGO_DEBUG=1 "
            "for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# Widgets render with the project's templates too (the post editor's is templates/admin/...).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

INSTALLED_APPS = [
    "kb.admin_site.KbAdminConfig",  # django.contrib.admin, with the index in kb's order
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "markdownx",
    "ninja",
    "axes",
    "notes",
]

MIDDLEWARE = [
    "notes.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session and everything after it, so a cached page costs one small query.
    "notes.page_cache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Inside the page cache, so a redirect is cached like the page it replaces.
    "notes.redirects.OldAddressMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "notes.middleware.RejectNullBytesMiddleware",
    # django-csp, with script-src filled in with the static files' address (see below).
    "notes.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a lockout into the page the user sees.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks for a lockout before any password is tried.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "kb.urls"
WSGI_APPLICATION = "kb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notes.context_processors.site",
            ],
        },
    },
]

# SQLite in a data folder is the embedded default; DATABASE_URL selects PostgreSQL in production.
DATA_DIR = Path(env_str("KB_DATA_DIR", str(BASE_DIR / "data")))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'kb.sqlite3'}",
        conn_max_age=int(env_str("DJANGO_CONN_MAX_AGE", "60")),
        # Off: a check is a round trip on every request, as much as a cached page costs
        # otherwise. A connection that died with a database restart fails one request, which
        # the page cache retries (notes/site_state.py); Django then drops it.
        conn_health_checks=env_bool("DJANGO_CONN_HEALTH_CHECKS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DJANGO_DB_PREPARED_STATEMENTS", True
):
    # Parameters sent apart from the SQL, so a statement's text is the same from one request
    # to the next, and psycopg prepares it on the connection once it has run five times: the
    # server then skips parsing and planning it. A post page's SQL went from ~7 to ~4 ms.
    # Off for a pooler in transaction mode that does not track prepared statements
    # (PgBouncer before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite creates the file but not its folder; a fresh clone has no data/ yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Requests wait for a writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("KB_TIME_ZONE", "UTC")
# kb's pages are written in English. Without translations, every date and number a template
# shows skips looking up the active language in a context-local: some 15% of the time a page
# of search results takes to render.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("KB_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("KB_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names in production; the test run has no collectstatic manifest.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if "pytest" in sys.modules
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

LOGIN_URL = "admin:login"

# Behind a TLS-terminating proxy, set these (see README, "Deployment").
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(env_str("DJANGO_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
KB_BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
# How many proxies append to X-Forwarded-For; the client is the address the outermost one saw.
KB_PROXY_COUNT = int(env_str("DJANGO_PROXY_COUNT", "1"))
# The addresses a proxy of ours connects from. A request from anywhere else reached gunicorn
# directly, so its X-Forwarded-For is the client's own claim and is not believed. The default
# is loopback and the private ranges; name the proxy's own address to trust only it.
try:
    KB_TRUSTED_PROXIES = [
        ipaddress.ip_network(item)
        for item in env_list(
            "DJANGO_TRUSTED_PROXIES",
            "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
        )
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {exc}") from exc
if KB_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A load balancer polls over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Images pasted into the editor (notes/uploads.py): bytes on disk, and pixels once decoded.
KB_UPLOAD_MAX_BYTES = int(env_str("KB_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
KB_UPLOAD_MAX_PIXELS = int(env_str("KB_UPLOAD_MAX_PIXELS", str(40_000_000)))
# A photo's EXIF says where it was taken; uploads drop it (orientation applied) unless this is on.
KB_UPLOAD_KEEP_METADATA = env_bool("KB_UPLOAD_KEEP_METADATA", False)
# Send uploaded images from kb itself, for a deployment with no web server in front of it.
KB_SERVE_MEDIA = env_bool("KB_SERVE_MEDIA", DEBUG)

# Every response carries this policy; kb's pages and the admin need no inline script or style.
# Scripts come from the static files' address only, not 'self': /media/ is on the same origin,
# and what lives there came from authors and backups. The middleware fills the address in.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["kb:static-files"],
        "style-src": ["'self'"],
        # Paper summaries may show a figure from the paper's own site.
        "img-src": ["'self'", "data:", "https:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Login throttling: a few wrong passwords lock that username from that address for a while.
AXES_FAILURE_LIMIT = int(env_str("KB_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env_str("KB_LOGIN_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "notes.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "notes.middleware.lockout_response"
AXES_VERBOSE = False


def cache_from_url(url: str) -> dict:
    """A CACHES entry from a URL: locmem:// (each process its own, the default), redis://
    or rediss:// (shared by every worker and server), file:///path, or dummy:// (no caching)."""
    scheme = url.partition("://")[0].lower()
    if scheme == "locmem":
        # Bounded, as each worker holds its own copy: about 2,000 compressed pages, ~20 MB.
        max_entries = int(env_str("KB_CACHE_MAX_ENTRIES", "2000"))
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "kb",
            "OPTIONS": {"MAX_ENTRIES": max_entries},
        }
    if scheme in {"redis", "rediss", "unix"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "file":
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": url.partition("://")[2],
        }
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL must start with locmem://, redis://, rediss://, unix://, file:// or "
        f"dummy://, not {url!r}"
    )


# Several servers should share a Redis; one server is well served by the default.
CACHES = {
    "default": cache_from_url(env_str("CACHE_URL", "") or env_str("REDIS_URL", "") or "locmem://")
}
# Public pages are cached whole for anonymous readers (notes/page_cache.py); 0 turns that off,
# as is the default with DEBUG, where a template edit must show on the next reload.
KB_PAGE_CACHE_SECONDS = int(env_str("KB_PAGE_CACHE_SECONDS", "0" if DEBUG else str(24 * 3600)))
# /math/: formula stylesheets are content-addressed and cached for good by their own view.
KB_PAGE_CACHE_SKIP = [
    "/admin/",
    "/api/",
    "/capture/",
    "/healthz",
    "/math/",
    f"/{MEDIA_URL}",
    f"/{STATIC_URL}",
]

# The API (notes/api/): requests each token (or staff session) may make per window.
KB_API_RATE_LIMIT = env_str("KB_API_RATE_LIMIT", "600/minute")

# Fetching pages for capture and papers by identifier (notes/fetching.py): only public addresses,
# except the hosts (`host` or `host:port`) named here; seconds a whole fetch may take; who asks.
KB_FETCH_ALLOWED_HOSTS = env_list("KB_FETCH_ALLOWED_HOSTS", "")
KB_FETCH_TIMEOUT = float(env_str("KB_FETCH_TIMEOUT", "10"))
KB_FETCH_USER_AGENT = env_str(
    "KB_FETCH_USER_AGENT", "kb/0.1 (a personal knowledge base fetching one page for its author)"
)
# Where papers are looked up by identifier; tests point these at a local server.
KB_ARXIV_API_URL = env_str("KB_ARXIV_API_URL", "https://export.arxiv.org/api/query")
KB_CROSSREF_API_URL = env_str("KB_CROSSREF_API_URL", "https://api.crossref.org/works/")

# A CDN in front (notes/cdn.py), off unless KB_CDN_MAX_AGE is set: how long it may keep a page,
# how long past that it may serve it while asking again, and where purges are POSTed.
KB_CDN_MAX_AGE = int(env_str("KB_CDN_MAX_AGE", "0"))
KB_CDN_STALE_SECONDS = int(env_str("KB_CDN_STALE_SECONDS", "60"))
KB_CDN_PURGE_URL = env_str("KB_CDN_PURGE_URL", "")
KB_CDN_PURGE_TOKEN = env_str("KB_CDN_PURGE_TOKEN", "")

# The site's identity, shown in the header, feeds and meta tags: defaults for what the author
# can change in the admin (Site settings).
KB_SITE_TITLE = env_str("KB_SITE_TITLE", "kb")
KB_SITE_DESCRIPTION = env_str(
    "KB_SITE_DESCRIPTION", "Notes on machine learning: long-form articles and paper summaries."
)
KB_SITE_AUTHOR = env_str("KB_SITE_AUTHOR", "")
KB_POSTS_PER_PAGE = 10
# Search stems words in this language: a PostgreSQL text search configuration name. SQLite
# stems English only. Run `manage.py reindex` after changing it.
KB_SEARCH_LANGUAGE = env_str("KB_SEARCH_LANGUAGE", "english")

# markdownx: the live preview renders through the same pipeline as the stored HTML.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "notes.rendering.markdownify"
MARKDOWNX_URLS_PATH = "/admin/markdownx/markdownify/"
MARKDOWNX_UPLOAD_URLS_PATH = "/admin/markdownx/upload/"
MARKDOWNX_MEDIA_PATH = "uploads/%Y/%m/"

# One JSON object a line on stdout, each tagged with the request it belongs to.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "notes.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": env_str("KB_LOG_LEVEL", "INFO")},
}
