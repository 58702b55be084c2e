"""Cổng dịch vụ công: catalogue, monitor and rankings of online public services."""
