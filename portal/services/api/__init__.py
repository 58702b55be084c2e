"""The open JSON API's contract in one place: the response bodies (shapes.py) and their OpenAPI document
(openapi.py). The blueprint (portal/blueprints/api.py) validates parameters, calls a service and returns a shape."""
