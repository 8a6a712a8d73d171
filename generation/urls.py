from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="generate_home"),
    path("<uuid:job_id>/", views.job_detail, name="generate_job"),
    path("<uuid:job_id>/cancel", views.job_cancel, name="generate_job_cancel"),
    path("<uuid:job_id>/retry", views.job_retry, name="generate_job_retry"),
    path("<uuid:job_id>/delete", views.job_delete, name="generate_job_delete"),
    path("<uuid:job_id>/recrop", views.job_recrop, name="generate_job_recrop"),
    path("<uuid:job_id>/actor", views.job_actor, name="generate_job_actor"),
]
