"""Fits of the semi-tensor Tucker, train and ring formats (and their classical cases)."""
