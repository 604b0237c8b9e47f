"""The query engine: parse → normalize → overrides → date range → compile → execute → shape.

Entry points live in `app.query.api`.
"""
