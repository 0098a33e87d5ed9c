"""Local stand-ins for the network peers (Claude, E2B) and the pytest plugin using them."""
