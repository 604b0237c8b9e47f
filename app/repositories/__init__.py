"""The only place that builds ORM queries. Every statement on project data filters on `team_id` first."""
