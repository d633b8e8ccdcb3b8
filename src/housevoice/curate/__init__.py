"""Curation: flaggers that say what would poison a voice model, with reasons; people decide."""
