from django.db import connection
from django.db.models import Count
from rest_framework import filters, serializers, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from .models import Product


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class ProductSerializer(serializers.ModelSerializer):
    price = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id", "name", "category", "price", "description", "stock", "features",
            "description_status", "description_source", "description_model", "description_generated_at",
            "description_error", "created_at", "updated_at",
        ]

    def get_price(self, product):
        return f"{product.price_cents // 100}.{product.price_cents % 100:02d}"


class Search(filters.SearchFilter):
    """`?q=`: every term must appear (icontains) in the name, category or description."""

    search_param = "q"


ORDERINGS = {"price": "price_cents", "name": "name", "created_at": "created_at"}


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProductSerializer
    pagination_class = Pagination
    search_fields = ["name", "category", "description"]

    def get_queryset(self):
        products = Product.objects.all()
        category = self.request.query_params.get("category")
        return products.filter(category__iexact=category) if category else products

    def filter_queryset(self, queryset):
        # `?ordering=price` names the price_cents column; `-` reverses.
        wanted = self.request.query_params.get("ordering", "")
        column = ORDERINGS.get(wanted.lstrip("-"))
        return queryset.order_by(("-" if wanted.startswith("-") else "") + column, "id") if column else queryset.order_by("id")

    @action(detail=False)
    def search(self, request):
        products = Search().filter_queryset(request, self.get_queryset(), self).order_by("id")
        page = self.paginate_queryset(products)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@api_view(["GET"])
def categories(request):
    rows = Product.objects.values("category").annotate(product_count=Count("id")).order_by("category")
    return Response([{"name": r["category"], "product_count": r["product_count"]} for r in rows])


@api_view(["GET"])
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Response({"status": "ok"})
