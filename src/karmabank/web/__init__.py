"""The web app: a REST API under /api and (next) the dashboard, one FastAPI app.

create_app(settings)   the app over one database (karmabank.settings.Settings or
                       WebSettings); `karmabank serve` runs it with uvicorn
"""

from __future__ import annotations

from karmabank.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
