"""The dashboard's pages, in the order of its menu.

Each page module gives ``KEY``, ``PATH``, ``TITLE``, a ``layout(lang, **query)`` function, and its
``CALLBACKS`` (see :class:`najma.dashboards.pages.common.Callback`), registered by :func:`najma.dashboards.create_app`.
"""

from najma.dashboards.pages import customer_journeys, data_quality, discover, handover, overview, redesign, service

PAGES = (overview, service, customer_journeys, handover, redesign, discover, data_quality)

__all__ = ["PAGES"]
