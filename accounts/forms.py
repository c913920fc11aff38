from django import forms
from django.core.exceptions import ValidationError

from .services import SignupRefused, user_register


class RegisterForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    invitation = forms.CharField(required=False, widget=forms.HiddenInput)

    def save(self):
        try:
            return user_register(**self.cleaned_data)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return None
        except SignupRefused as exc:
            self.add_error(None, exc.detail)
            return None
