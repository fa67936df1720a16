"""The demo cloud: an emulator of the Belimo Cloud Client API v3 with a physically plausible fleet.

It imports nothing from the rest of belimo_cloud: it is a second, independent reading of the
public API, held to Belimo's spec by the conformance tests.
"""

from belimo_cloud.emulator.options import EmulatorOptions
from belimo_cloud.emulator.server import running_emulator

__all__ = ["EmulatorOptions", "running_emulator"]
