from django.urls import path

from . import views
from .sharing import views as sharing_views

app_name = "chat"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<int:conversation_id>/", views.conversation, name="conversation"),
    path("s/<str:token>/", sharing_views.shared, name="shared"),
    path("shares/", sharing_views.shares, name="shares"),
    path("shares/<str:token>/revoke", sharing_views.share_revoke_view, name="share-revoke"),
    path("chat/code.css", views.code_css, name="code-css"),
]
