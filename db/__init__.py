"""Persistence: SQLAlchemy models, engine factory and Alembic migrations. No Streamlit here."""
