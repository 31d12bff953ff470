"""The DRF baseline of `npm run bench`: the catalog reads of the Django REST Framework design
edgeshop replaces, served by gunicorn from PostgreSQL. Settings a production deployment of it
would use: DEBUG off, JSON only, persistent database connections, anonymous reads."""
import os

SECRET_KEY = "bench-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "baseline.urls"
WSGI_APPLICATION = "baseline.wsgi.application"
INSTALLED_APPS = ["rest_framework", "baseline"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "edgeshop",
        "USER": os.environ.get("DRF_DB_USER", "postgres"),
        "HOST": os.environ["DRF_DB_HOST"],
        "PORT": os.environ["DRF_DB_PORT"],
        # Each gunicorn worker keeps its connection instead of opening one per request.
        "CONN_MAX_AGE": None,
    }
}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Catalog reads are anonymous; no django.contrib.auth in this baseline.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
}
