"""Generated from openapi/ by scripts/generate_schemas.py; never edit."""
