"""Chỉ số CCHC — the pure-Python core: plan import, criteria, scoring, storage, exports.

Nothing in this package imports Streamlit: the UI in app.py/views/ calls into it.
"""
