"""Business rules, one module per aggregate. Services `flush()`; only request/task boundaries commit."""
