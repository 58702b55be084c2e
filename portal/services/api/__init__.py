"""The open JSON API's contract in one place: the response bodies (shapes.py), their schemas (schemas.py) and
the OpenAPI document with the paths (openapi.py). The blueprint (portal/blueprints/api.py) validates parameters,
calls a service and returns a shape."""
