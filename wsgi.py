from portal.wsgi import app

__all__ = ["app"]
