from django.db import models


class Product(models.Model):
    """edgeshop's `products` table, as the Django design keeps it."""

    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100)
    price_cents = models.IntegerField()
    description = models.TextField(default="")
    stock = models.IntegerField(default=0)
    features = models.JSONField(default=list)
    description_status = models.CharField(max_length=10, default="none")
    description_source = models.CharField(max_length=10, null=True)
    description_model = models.CharField(max_length=100, null=True)
    description_generated_at = models.DateTimeField(null=True)
    description_error = models.TextField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        app_label = "baseline"
        db_table = "products"
        # The same indexes as edgeshop's migrations: filters and orderings.
        indexes = [
            models.Index(fields=["category"]),
            models.Index(fields=["price_cents"]),
            models.Index(fields=["name"]),
            models.Index(fields=["created_at"]),
        ]
