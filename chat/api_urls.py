from django.urls import path

from . import api, api_tree, api_votes
from .attachments import api as attachments_api
from .providers.api import ProvidersApi

urlpatterns = [
    path("send", api.SendApi.as_view(), name="api-send"),
    path("estimate", api.EstimateApi.as_view(), name="api-estimate"),
    path("conversations", api.ConversationListApi.as_view(), name="api-conversations"),
    path("conversations/<int:conversation_id>", api.ConversationDetailApi.as_view(), name="api-conversation"),
    path("conversations/<int:conversation_id>/branch", api_tree.BranchApi.as_view(), name="api-conversation-branch"),
    path("conversations/<int:conversation_id>/export", api.ConversationExportApi.as_view(),
         name="api-conversation-export"),
    path("preferences", api.PreferencesApi.as_view(), name="api-preferences"),
    path("search", api.SearchApi.as_view(), name="api-search"),
    path("export", api.ExportApi.as_view(), name="api-export"),
    path("import", api.ImportApi.as_view(), name="api-import"),
    path("messages/<int:message_id>/cancel", api.CancelApi.as_view(), name="api-message-cancel"),
    path("messages/<int:message_id>/regenerate", api.RegenerateApi.as_view(), name="api-message-regenerate"),
    path("messages/<int:message_id>/edit", api_tree.EditApi.as_view(), name="api-message-edit"),
    path("messages/<int:message_id>/choose", api.ChooseApi.as_view(), name="api-message-choose"),
    path("messages/<int:message_id>/vote", api_votes.VoteApi.as_view(), name="api-message-vote"),
    path("messages/<int:message_id>/reveal", api_votes.RevealApi.as_view(), name="api-message-reveal"),
    path("arena", api_votes.ArenaApi.as_view(), name="api-arena"),
    path("messages/<int:message_id>/fuse", api.FuseApi.as_view(), name="api-message-fuse"),
    path("providers", ProvidersApi.as_view(), name="api-providers"),
    path("attachments", attachments_api.AttachmentUploadApi.as_view(), name="api-attachments"),
    path("attachments/<int:attachment_id>", attachments_api.AttachmentDetailApi.as_view(), name="api-attachment"),
    path("attachments/<int:attachment_id>/content", attachments_api.AttachmentContentApi.as_view(),
         name="api-attachment-content"),
    path("vision", attachments_api.VisionApi.as_view(), name="api-vision"),
]
