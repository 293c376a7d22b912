"""Django settings, from the environment.

CELL35_CONTENT       the content folder the portal files into (default: ./content)
CELL35_PORTAL_DATA   the portal's own folder: SQLite database, drafts' uploads, secret key (default: ./.portal)
CELL35_SITE          the public site a publish builds (default: ./site); its render cache: CELL35_CACHE (./.cache)
DATABASE_URL         postgres://user:pass@host:port/name for PostgreSQL; SQLite in the data folder otherwise
PORTAL_SECRET_KEY    else a random key kept in the data folder (created on first use, mode 0600)
PORTAL_DEBUG         1 for Django's debug pages (never in production)
PORTAL_INSECURE_COOKIES  1 to send the session cookie over plain http (a LAN demo without TLS); browsers
                     accept Secure cookies from http://localhost and 127.0.0.1, so `make run` needs no such flag
PORTAL_ALLOWED_HOSTS comma-separated host names (default: localhost,127.0.0.1)
PORTAL_HTTPS         1 behind a TLS proxy: https only, HSTS (`cell35 portal check --deploy` then leaves only
                     the HSTS subdomain and preload choices, which belong to whoever runs the domain)
PORTAL_ORIGINS       comma-separated https origins the forms come from (behind a proxy)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

CONTENT_DIR = Path(os.environ.get("CELL35_CONTENT", "content")).resolve()
DATA_DIR = Path(os.environ.get("CELL35_PORTAL_DATA", ".portal")).resolve()
SITE_DIR = Path(os.environ.get("CELL35_SITE", "site")).resolve()
CACHE_DIR = Path(os.environ.get("CELL35_CACHE", ".cache")).resolve()
DRAFTS_DIR = DATA_DIR / "drafts"


def _secret_key() -> str:
    if os.environ.get("PORTAL_SECRET_KEY"):
        return os.environ["PORTAL_SECRET_KEY"]
    path = DATA_DIR / "secret-key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("PORTAL_DEBUG") == "1"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("PORTAL_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
                 if h.strip()] + ["testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "axes",
    "producers.portal.apps.PortalConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",            # last, as django-axes asks
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",       # first: refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "producers.portal.urls"
WSGI_APPLICATION = "producers.portal.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "producers.portal.labels.context",
    ], "builtins": ["producers.portal.templatetags.portal_tags"]},
}]

DATABASES = {"default": dj_database_url.config(
    default=f"sqlite:///{DATA_DIR / 'portal.sqlite3'}", conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Many uploads at once from several threads and workers: writers queue (WAL, IMMEDIATE, a 30 s
    # wait) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "static/"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# Cookies: never readable by scripts, never sent cross-site on a POST, Secure unless told otherwise.
_SECURE = os.environ.get("PORTAL_INSECURE_COOKIES") != "1"
SESSION_COOKIE_SECURE = _SECURE
CSRF_COOKIE_SECURE = _SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600          # a working day; then log in again
SESSION_SAVE_EVERY_REQUEST = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS proxy (production): PORTAL_HTTPS=1 redirects plain http, sends HSTS, and trusts the
# proxy's X-Forwarded-Proto; PORTAL_ORIGINS lists the https origins forms are posted from.
if os.environ.get("PORTAL_HTTPS") == "1":
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("PORTAL_ORIGINS", "").split(",") if o.strip()]

# Uploads: anything past 64 kB goes to a temp file at once, so a phone's video never sits in memory.
FILE_UPLOAD_HANDLERS = ["producers.portal.uploads.CappedUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_500_000       # the form fields other than files (an article's text)
FILE_UPLOAD_TEMP_DIR = None                   # the system's temp folder
FILE_UPLOAD_PERMISSIONS = 0o640

# django-axes: five wrong passwords for one user name from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25                       # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked.html"
AXES_VERBOSE = False

LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "loggers": {"axes": {"handlers": ["console"], "level": "WARNING"}}}
