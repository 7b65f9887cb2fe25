"""Root pytest configuration: doctests of the optional PyTorch adapter need torch."""
collect_ignore_glob = []
try:
    import torch  # noqa: F401
except ImportError:
    collect_ignore_glob.append("semitensor/torch/*")
