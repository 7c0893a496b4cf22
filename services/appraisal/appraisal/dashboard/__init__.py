"""County bureau dashboard (县区司法局考核看板): pages, charts and the downloadable report."""

from appraisal.dashboard.routes import dashboard_router

__all__ = ["dashboard_router"]
