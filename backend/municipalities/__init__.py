"""Municipalities (JIS X 0402), their boundaries, and locating a point in one."""
