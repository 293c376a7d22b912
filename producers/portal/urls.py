from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from producers.portal import cellsadmin, editor, resumable, views

REF = r"(?P<ref>[0-9]{4}-q[1-4]/[a-z0-9]+(?:-[a-z0-9]+)*(?:@rev-[0-9]{1,4})?)"
CELL = r"(?P<cell_id>[a-z0-9]+(?:-[a-z0-9]+)*)"
NAME = r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,120})"

app_name = "portal"
portal = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="portal/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("join/", views.join, name="join"),
    path("language/", views.set_language, name="language"),
    path("assets/<str:name>", views.asset, name="asset"),
    path("cell/", views.cell_home, name="cell"),
    path("drafts/new/", views.draft_new, name="draft_new"),
    path("drafts/<int:pk>/", views.draft_detail, name="draft"),
    path("drafts/<int:pk>/submit/", views.draft_submit, name="draft_submit"),
    path("drafts/<int:pk>/products/new/", views.product_new, name="product_new"),
    path("drafts/<int:pk>/products/<int:position>/", views.product_edit, name="product"),
    path("drafts/<int:pk>/products/<int:position>/delete/", views.product_delete, name="product_delete"),
    re_path(rf"^drafts/(?P<pk>[0-9]+)/media/{NAME}$", views.draft_media, name="draft_media"),
    path("drafts/<int:pk>/preview/", views.draft_preview, name="draft_preview"),
    re_path(r"^drafts/(?P<pk>[0-9]+)/preview/site/(?P<rest>.*)$", views.draft_preview_site, name="draft_preview_site"),
    path("preview/", views.preview, name="preview"),
    path("social-count/", views.social_count, name="social_count"),
    path("uploads/", resumable.create, name="uploads"),
    path("uploads/<uuid:pk>/", resumable.resume, name="upload"),
    path("review/", editor.queue, name="queue"),
    re_path(rf"^review/{REF}/$", editor.review, name="review"),
    re_path(rf"^review/{REF}/approve/$", editor.approve, name="approve"),
    re_path(rf"^review/{REF}/reject/$", editor.reject, name="reject"),
    re_path(rf"^review/{REF}/publish/$", editor.publish, name="publish"),
    re_path(rf"^review/{REF}/media/{NAME}$", editor.review_media, name="review_media"),
    re_path(rf"^review/{REF}/bundle/$", editor.bundle, name="bundle"),
    re_path(rf"^review/{REF}/preview/$", editor.review_preview, name="review_preview"),
    re_path(rf"^review/{REF}/preview/site/(?P<rest>.*)$", editor.review_preview_site, name="review_preview_site"),
    re_path(r"^review/report\.(?P<fmt>csv|json)$", editor.report_download, name="report"),
    path("publish/", editor.publish_status, name="publish_status"),
    path("publish/status.json", editor.publish_status_json, name="publish_status_json"),
    path("invite/", editor.invite, name="invite"),
    path("audit/", editor.audit, name="audit"),
    path("cells/", cellsadmin.cell_list, name="cells"),
    re_path(rf"^cells/{CELL}/$", cellsadmin.cell_edit, name="cell_edit"),
    re_path(rf"^cells/{CELL}/delete/$", cellsadmin.cell_delete, name="cell_delete"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/portal/", permanent=False)),
    path("portal/", include((portal, "portal"))),
    path("admin/", admin.site.urls),
]
