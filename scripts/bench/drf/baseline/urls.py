from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("products", views.ProductViewSet, basename="product")

urlpatterns = [
    path("health", views.health),
    path("categories/", views.categories),
    path("", include(router.urls)),
]
