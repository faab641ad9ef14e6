"""Sessionlens domain: rules and services over the database. Nothing here imports Streamlit."""
