from django.urls import path

from .api import conversations, exports, folders, imports, messages, preferences, search, send, tree, votes
from .attachments import api as attachments_api
from .providers.api import ProvidersApi
from .sharing import api as sharing_api

urlpatterns = [
    path("send", send.SendApi.as_view(), name="api-send"),
    path("estimate", send.EstimateApi.as_view(), name="api-estimate"),
    path("conversations", conversations.ConversationListApi.as_view(), name="api-conversations"),
    path("conversations/<int:conversation_id>", conversations.ConversationDetailApi.as_view(), name="api-conversation"),
    path("conversations/<int:conversation_id>/branch", tree.BranchApi.as_view(), name="api-conversation-branch"),
    path("conversations/<int:conversation_id>/export", exports.ConversationExportApi.as_view(),
         name="api-conversation-export"),
    path("folders", folders.FolderListApi.as_view(), name="api-folders"),
    path("folders/<int:folder_id>", folders.FolderDetailApi.as_view(), name="api-folder"),
    path("conversations/<int:conversation_id>/share", sharing_api.ConversationShareApi.as_view(),
         name="api-conversation-share"),
    path("shares", sharing_api.ShareListApi.as_view(), name="api-shares"),
    path("shares/<str:token>", sharing_api.ShareDetailApi.as_view(), name="api-share"),
    path("preferences", preferences.PreferencesApi.as_view(), name="api-preferences"),
    path("search", search.SearchApi.as_view(), name="api-search"),
    path("export", exports.ExportApi.as_view(), name="api-export"),
    path("import", imports.ImportApi.as_view(), name="api-import"),
    path("messages/<int:message_id>/cancel", messages.CancelApi.as_view(), name="api-message-cancel"),
    path("messages/<int:message_id>/regenerate", messages.RegenerateApi.as_view(), name="api-message-regenerate"),
    path("messages/<int:message_id>/edit", tree.EditApi.as_view(), name="api-message-edit"),
    path("messages/<int:message_id>/choose", messages.ChooseApi.as_view(), name="api-message-choose"),
    path("messages/<int:message_id>/vote", votes.VoteApi.as_view(), name="api-message-vote"),
    path("messages/<int:message_id>/reveal", votes.RevealApi.as_view(), name="api-message-reveal"),
    path("arena", votes.ArenaApi.as_view(), name="api-arena"),
    path("messages/<int:message_id>/fuse", messages.FuseApi.as_view(), name="api-message-fuse"),
    path("providers", ProvidersApi.as_view(), name="api-providers"),
    path("attachments", attachments_api.AttachmentUploadApi.as_view(), name="api-attachments"),
    path("attachments/<int:attachment_id>", attachments_api.AttachmentDetailApi.as_view(), name="api-attachment"),
    path("attachments/<int:attachment_id>/content", attachments_api.AttachmentContentApi.as_view(),
         name="api-attachment-content"),
    path("vision", attachments_api.VisionApi.as_view(), name="api-vision"),
]
