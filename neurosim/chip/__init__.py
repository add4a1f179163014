"""The chip: its description (ChipProfile), the memory map of a core (CoreMemory), a network
placed on it (ChipProgram), and what is broken in it (FaultState)."""
from neurosim.chip.faults import FaultState, apply
from neurosim.chip.memory import CoreMemory
from neurosim.chip.profile import IDEAL, PROFILES, TRUENORTH, ChipProfile, get_profile
from neurosim.chip.program import ChipProgram, empty_program

__all__ = ["ChipProfile", "ChipProgram", "CoreMemory", "FaultState", "IDEAL", "PROFILES",
           "TRUENORTH", "apply", "empty_program", "get_profile"]
