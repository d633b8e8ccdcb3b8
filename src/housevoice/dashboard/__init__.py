"""The dashboard: a Streamlit app where leads compare model versions and promote one; it only reads the store."""
