"""The only non-page code that imports streamlit: session keys, cached loaders, widgets, access guard."""
