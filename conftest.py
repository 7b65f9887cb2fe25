"""Root pytest configuration: doctests of the optional PyTorch adapter need torch."""
import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["semitensor/torch/*"]
