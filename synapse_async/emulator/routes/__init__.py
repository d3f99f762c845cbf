"""The emulator's routes, one module per API domain.

Each module exports ``setup(app, store)``, which registers its tables and routes; adding a
domain is one new module plus one line in ``app.py`` (``ROUTE_MODULES``).
"""
