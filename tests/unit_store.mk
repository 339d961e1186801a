# tests/unit_store.mk
