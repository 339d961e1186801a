# tests/unit_common.mk
