"""kb's REST API under /api/v1/ (django-ninja): personal tokens, the endpoints, their schemas."""
