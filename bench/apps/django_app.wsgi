# django: the JSON endpoint (/django/api) of a minimal Django project in one file (no
# database, the usual middleware); deterministic, so the floor can serve the same bytes.
import sys
import types

from django.conf import settings

URLS = "bench_django_urls"  # the URLconf is a module of its own, however this file is loaded
settings.configure(
    DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=URLS, SECRET_KEY="bench-only",
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.clickjacking.XFrameOptionsMiddleware"],
    INSTALLED_APPS=[], USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def api(request):
    return JsonResponse({"message": "Hello from Django", "method": request.method,
                         "items": [{"id": i, "name": "item %d" % i} for i in range(5)], "ok": True})


sys.modules[URLS] = types.ModuleType(URLS)
sys.modules[URLS].urlpatterns = [path("api", api)]
application = get_wsgi_application()
