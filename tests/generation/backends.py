"""Stage backends used by tests through GENERATION_BACKENDS (they prove the registry works too)."""
from __future__ import annotations

from generation import services
from generation.stages.base import Stage, StageContext, StageError, StageOutput
from generation.stages.build import RigStage
from generation.stages.stylize import StylizeStage


class FlakyRig(RigStage):
    """Fails the first time it runs for a job, then rigs normally."""

    failed: set[str] = set()
    runs: list[str] = []

    def run(self, ctx: StageContext) -> StageOutput:
        FlakyRig.runs.append(ctx.job_id)
        if ctx.job_id not in FlakyRig.failed:
            FlakyRig.failed.add(ctx.job_id)
            raise StageError("The rig server is warming up.", code="rig_unavailable", details={"try": 1})
        return super().run(ctx)


class CancellingStylize(StylizeStage):
    """The user cancels while the stylize stage is half done; its next checkpoint must stop it."""

    def run(self, ctx: StageContext) -> StageOutput:
        from accounts.models import User

        ctx.checkpoint(0.1)
        services.cancel_job(user=User.objects.get(pk=ctx.owner_id), job_id=ctx.job_id)
        ctx.checkpoint(0.5)
        raise AssertionError("the checkpoint after a cancel must raise")


class BrokenPalette(Stage):
    name = "palette"

    def run(self, ctx: StageContext) -> StageOutput:
        raise RuntimeError("division by zero somewhere in a backend")


class NotAStage:
    pass
