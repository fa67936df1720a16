"""Compatibility path: the fleet lives in ``belimo_cloud.emulator.model.fleet`` now."""

from belimo_cloud.emulator.model.fleet import DESIGNED_FAULTS, Fleet, designed_faults

__all__ = ["DESIGNED_FAULTS", "Fleet", "designed_faults"]
