from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from .services import SignupRefused, user_register


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    is_staff = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class RegisterInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        email = serializers.EmailField()
        password = serializers.CharField(write_only=True, style={"input_type": "password"})
        invitation = serializers.CharField(required=False, allow_blank=True, default="",
                                           help_text="The invitation's token, when WEBOX_SIGNUP is invite.")

    class RegisterOutputSerializer(serializers.Serializer):
        user = UserOutputSerializer()
        access = serializers.CharField()
        refresh = serializers.CharField()

    @extend_schema(request=RegisterInputSerializer, responses={201: RegisterOutputSerializer},
                   description="403 when WEBOX_SIGNUP is closed, or invite without a usable invitation.")
    def post(self, request):
        data = self.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = user_register(**data.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        except SignupRefused as exc:
            raise PermissionDenied(exc.detail) from None
        refresh = RefreshToken.for_user(user)
        body = {"user": UserOutputSerializer(user).data, "access": str(refresh.access_token), "refresh": str(refresh)}
        return Response(body, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)
