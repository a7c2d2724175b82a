"""A synthetic PBX: company profiles, routing strategies and agent behaviour run as a
discrete-event simulation, written in every log format callscope reads, with the ground truth."""

from callscope.simulate.engine import simulate
from callscope.simulate.profile import Profile, builtin_profiles, load_profile
from callscope.simulate.trace import SimCall, SimLeg, Trace

__all__ = ["Profile", "SimCall", "SimLeg", "Trace", "builtin_profiles", "load_profile", "simulate"]
