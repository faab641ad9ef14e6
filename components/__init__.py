"""Streamlit-aware pieces shared by pages. The only layer that touches st.cache_resource."""
