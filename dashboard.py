"""Campaign Lens: the entry point. The router decides who is asking and which page runs (ui/router.py).

Streamlit runs this file as the script of every browser session (`__name__ == "__main__"`).
`streamlit run dashboard.py` also imports it once as the module `dashboard` to find the server,
`app`: Streamlit's own server plus security headers, the sign-in cookie routes and a periodic garbage
collection (ui/server.py).
"""

import streamlit as st

if __name__ == "__main__":
    from ui.router import route, run_page

    run_page(route())
else:
    from ui import server

    app = st.App(__file__, middleware=server.middleware(), routes=server.routes(), lifespan=server.lifespan)
