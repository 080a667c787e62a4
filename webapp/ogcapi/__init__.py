"""OGC API – Features at ``/ogcapi`` (a blueprint of its own; see :mod:`webapp.ogcapi.views`)."""
from webapp.ogcapi.views import bp

__all__ = ["bp"]
