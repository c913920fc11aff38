"""The REST API of folders: thin views over chat/services/folders.py and chat/selectors.py.

A conversation is moved and pinned through its own PATCH (``folder``, ``pinned``: chat/api/conversations.py).
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..errors import ChatError
from ..selectors import FolderNotFound, folder_get_for_user, folder_list_for_user
from ..serializers import FolderOutputSerializer, folder_data
from ..services.folders import MAX_FOLDER_NAME_CHARS
from .common import ChatApiError


def get_folder(request, folder_id):
    try:
        return folder_get_for_user(user=request.user, folder_id=folder_id)
    except FolderNotFound:
        raise Http404("No such folder.") from None


class FolderInputSerializer(serializers.Serializer):
    # Trimmed and checked (1–100 characters, unique per user in any case) by the service.
    name = serializers.CharField(trim_whitespace=False, allow_blank=True, max_length=MAX_FOLDER_NAME_CHARS * 2,
                                 help_text=f"1 to {MAX_FOLDER_NAME_CHARS} characters; not one of your other folders.")


class FolderListApi(APIView):
    """One's folders, by name, each with how many of its conversations are not archived. POST
    creates one. A conversation goes in a folder with `PATCH /api/chat/conversations/{id}`
    `{"folder": id}` (`null`: out of it); `GET /api/chat/conversations?folder=id` (or `none`) lists a folder.
    """

    name = "Folders"

    def get_serializer(self, *args, **kwargs):
        """The browsable API's form: a new folder's name."""
        return FolderInputSerializer(*args, **kwargs)

    @extend_schema(responses={200: FolderOutputSerializer(many=True)}, summary="Your folders, by name.")
    def get(self, request):
        return Response([folder_data(folder) for folder in folder_list_for_user(user=request.user)])

    @extend_schema(request=FolderInputSerializer, responses={201: FolderOutputSerializer},
                   summary="Create a folder (400 if you have one of that name).")
    def post(self, request):
        data = FolderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            folder = services.folder_create(owner=request.user, name=data.validated_data["name"])
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(folder_data(get_folder(request, folder.pk)), status=status.HTTP_201_CREATED)


class FolderDetailApi(APIView):
    """One folder. PATCH renames it; DELETE deletes it and moves its conversations out of any
    folder (they are never deleted with it).
    """

    name = "Folder"

    @extend_schema(responses={200: FolderOutputSerializer})
    def get(self, request, folder_id):
        return Response(folder_data(get_folder(request, folder_id)))

    @extend_schema(request=FolderInputSerializer, responses={200: FolderOutputSerializer},
                   summary="Rename a folder (400 if you have another of that name).")
    def patch(self, request, folder_id):
        folder = get_folder(request, folder_id)
        data = FolderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.folder_rename(folder=folder, name=data.validated_data["name"])
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(folder_data(get_folder(request, folder.pk)))

    @extend_schema(responses={204: None}, summary="Delete a folder; its conversations move out, never deleted.")
    def delete(self, request, folder_id):
        services.folder_delete(folder=get_folder(request, folder_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
