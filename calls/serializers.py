from rest_framework import serializers


class CharacterCallSerializer(serializers.Serializer):
    """A started call: the room the character is joining and the page to open."""

    room = serializers.CharField(help_text="The room's code.")
    url = serializers.URLField(help_text="The call page to open.")
    ws_path = serializers.CharField(help_text="The room's signaling socket path (docs/protocol.md).")
    conversation = serializers.UUIDField(help_text="The conversation the call's transcript is written to.")
    max_s = serializers.IntegerField(help_text="The longest the call may last, in seconds.")
