"""HTTP routes served beside the Streamlit app by the same server (``st.App`` in ``app.py``)."""
