from django.urls import path

from . import views

urlpatterns = [
    path("characters/<str:character_id>/", views.start_call, name="character_call_start"),
]
