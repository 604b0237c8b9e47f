"""A self-hostable, PostHog-API-compatible product analytics service."""
