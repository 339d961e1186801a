# tests/unit_auth.mk
