from django import forms


class TokenForm(forms.Form):
    token = forms.CharField(
        label="The 6-digit code your authenticator shows",
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Reply to the child",
        help_text="Plain words a child understands. Shown on the follow-up page.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
