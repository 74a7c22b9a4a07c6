"""Chỉ số CCHC served as a web application: `python -m streamlit run server.py` (scripts/run.sh does this).

`app.py` is the Streamlit script; this file wraps it in Streamlit's ASGI app with the routes and middleware
of web.py (sign-in page, session cookie, health route, what is public and what is not).
"""

import streamlit as st
from starlette.middleware import Middleware

import runner_events
import web
from scoring.province import warm

runner_events.install()  # before any session: a run's messages are never dropped because the next request overtook them

# the province's progress and published indexes computed as the process starts (scoring.province.warm), not by
# the first viewer after a restart
app = st.App("app.py", routes=web.routes(), middleware=[Middleware(web.SignInGate)], lifespan=warm.lifespan(web.database))
