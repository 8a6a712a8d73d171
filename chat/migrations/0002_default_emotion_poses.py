"""The default emotion -> avatar table (seed: pose_mapping.json); operators edit it in admin."""
from django.db import migrations

POSES = {
    # emotion: (expression weights, (pitch, yaw, roll) degrees, transition s, per-parameter transitions)
    "neutral": ({}, (0.0, 0.0, 0.0), 0.3, {}),
    "happy": ({"happy": 0.8, "relaxed": 0.2}, (-3.0, 0.0, 4.0), 0.25, {"head_roll": 0.4}),
    "sad": ({"sad": 0.8}, (9.0, -3.0, -3.0), 0.5, {}),
    "angry": ({"angry": 0.85}, (5.0, 0.0, 0.0), 0.2, {}),
    "surprised": ({"surprised": 0.9}, (-7.0, 0.0, 0.0), 0.1, {"head_pitch": 0.2}),
    "excited": ({"happy": 1.0, "surprised": 0.3}, (-5.0, 2.0, 6.0), 0.15, {"head_roll": 0.3}),
}


def create(apps, schema_editor):
    EmotionPose = apps.get_model("chat", "EmotionPose")
    for emotion, (weights, (pitch, yaw, roll), transition, transitions) in POSES.items():
        EmotionPose.objects.get_or_create(
            emotion=emotion,
            defaults={"expressions": weights, "head_pitch": pitch, "head_yaw": yaw, "head_roll": roll,
                      "transition": transition, "transitions": transitions},
        )


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
