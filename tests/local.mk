# Test fragments, one per owner.
include tests/unit_common.mk
include tests/unit_store.mk
include tests/unit_auth.mk
include tests/pam.mk
include tests/integration.mk
include tests/fido.mk
include tests/card.mk
