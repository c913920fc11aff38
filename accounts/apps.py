from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from . import authentication, signals
        from .models import User

        post_save.connect(signals.user_saved, sender=User, dispatch_uid="accounts.user_saved")
        post_delete.connect(signals.user_deleted, sender=User, dispatch_uid="accounts.user_deleted")
        # The bearer-token user cache forgets a changed user (accounts/authentication.py).
        post_save.connect(authentication.forget_changed_user, sender=User, dispatch_uid="accounts.forget_saved_user")
        post_delete.connect(authentication.forget_changed_user, sender=User,
                            dispatch_uid="accounts.forget_deleted_user")
        user_logged_out.connect(signals.user_logged_out, dispatch_uid="accounts.user_logged_out")
