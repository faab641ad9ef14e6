"""Streamlit-aware pieces shared by pages. The only layer that holds per-process resources
(engine, GeoIP reader, embedded worker: ``data.once_per_process``)."""
