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


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="Move the case to")
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=200,
        help_text="Required for a decision or closing. Metadata only: no names, no details of what happened.",
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = choices
