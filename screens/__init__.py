"""The screens: one Streamlit page per file, run by app.py through st.navigation."""
