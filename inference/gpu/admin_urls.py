"""The GPU status page in the admin site (included by the URL root by name, so the platform
package imports no feature app)."""
from django.contrib import admin
from django.urls import path

from .admin_views import gpu_status

urlpatterns = [path("", admin.site.admin_view(gpu_status), name="admin-gpu")]
