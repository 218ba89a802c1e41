from django.urls import path

from djangosite import views

urlpatterns = [
    path("async", views.async_view),
    path("sync", views.sync_view),
    path("echo", views.echo),
    path("stream", views.stream),
    path("raise", views.raise_error),
]
