"""The web chat channel and `kakekomi serve` (one hardened server for every channel).

Plain HTML forms work without JavaScript; ``static/app.js`` only improves them. No
cookies, no third-party requests, a strict Content-Security-Policy, quick exit.
"""

from ._branding import Branding, load_branding
from ._chat import SECURITY_HEADERS, WebChat
from ._limits import RateLimiter
from ._serve import run_serve, serve

__all__ = [
    "SECURITY_HEADERS",
    "Branding",
    "RateLimiter",
    "WebChat",
    "load_branding",
    "run_serve",
    "serve",
]
