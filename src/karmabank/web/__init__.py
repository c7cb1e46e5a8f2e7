"""The web app: a REST API under /api and (next) the dashboard, one FastAPI app.

create_app(settings)   the app over one database (karmabank.settings.Settings or
                       WebSettings); `karmabank serve` runs it with uvicorn
"""

from __future__ import annotations

from karmabank.web.app import create_app
from karmabank.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
