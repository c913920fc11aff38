from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from webox import throttles as limits

from . import throttles
from .services import SignupRefused, user_register


def _throttled(exc: limits.Throttled) -> exceptions.Throttled:
    return exceptions.Throttled(wait=exc.retry_after, detail=exc.detail)


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    is_staff = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


class RegisterApi(APIView):
    """Create an account (when sign-up is open, or with an invitation): answers 201 with the user
    and a pair of tokens.
    """

    name = "Sign up"
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
        try:
            throttles.check_register(request)
        except limits.Throttled as exc:
            raise _throttled(exc) from None
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
    """The account you are logged in as."""

    name = "Your account"

    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class TokenObtainApi(jwt_views.TokenObtainPairView):
    """Trade a username and password for an access token (15 minutes) and a refresh token (7 days).
    Send the access token as `Authorization: Bearer <token>`. Failed attempts are limited.
    """

    name = "Get a token"

    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        try:
            attempt = throttles.login_attempt(request, username)
        except limits.Throttled as exc:
            raise _throttled(exc) from None
        response = super().post(request, *args, **kwargs)
        if response.status_code == status.HTTP_200_OK:
            attempt.succeeded()
        return response


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """A refresh token counts only while its user exists, is active and has the same password."""

    def validate(self, attrs):
        token = self.token_class(attrs["refresh"])  # a TokenError here is the view's 401
        user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
        revoked = jwt_settings.CHECK_REVOKE_TOKEN and user is not None and (
            token.payload.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password))
        if user is None or revoked or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise exceptions.AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        return super().validate(attrs)


class TokenRefreshApi(jwt_views.TokenRefreshView):
    """Trade a refresh token for a new access token, while its user is active with the same password."""

    name = "Refresh a token"
    serializer_class = TokenRefreshSerializer
