"""Campaign Lens: the entry point. The router decides who is asking and which page runs (ui/router.py)."""

from ui.router import route, run_page

run_page(route())
