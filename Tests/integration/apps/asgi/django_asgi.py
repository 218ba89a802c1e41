"""The Django project of the ASGI tests (djangosite/, beside this script) as an ASGI app,
served by swsgi and by uvicorn alike."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangosite.settings")

from django.core.asgi import get_asgi_application  # noqa: E402 (after the path it needs)

application = get_asgi_application()
