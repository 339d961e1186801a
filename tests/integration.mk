# tests/integration.mk
