"""Streamlit-aware pieces shared by pages. The only layer that holds per-process resources (``data.once_per_process``)."""
