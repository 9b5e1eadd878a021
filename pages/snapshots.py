from ui.access import require_router

require_router(__file__)

import streamlit as st  # noqa: E402

st.title("snapshots")
