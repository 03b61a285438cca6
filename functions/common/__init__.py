"""Wiring shared by the bridge's functions (packaged with each: every function's CodeUri is functions/)."""
