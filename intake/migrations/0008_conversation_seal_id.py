import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    """SmsConversation.seal_id: what a new conversation's draft is bound to, made in
    Python so the row is written in one INSERT. Existing rows keep NULL (their drafts
    stay bound to their id), so the column is added without a default first: a
    callable default would give every existing row the same value."""

    dependencies = [("intake", "0007_inbound_media")]

    operations = [
        migrations.AddField(
            model_name="smsconversation",
            name="seal_id",
            field=models.UUIDField(editable=False, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="smsconversation",
            name="seal_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, null=True, unique=True),
        ),
    ]
