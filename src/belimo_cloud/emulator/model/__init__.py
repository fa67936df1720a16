"""The demo cloud's model layer: fleet state, physics, designed faults, writes, jobs, changes.

Nothing here knows about HTTP: no fastapi, starlette, uvicorn or http modules (an
import-linter contract holds this). Handlers parse a request, call this layer and serialise.
"""
