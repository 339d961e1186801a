# man/local.mk - manual pages (mdoc) and the contrib/ examples that ship
# with them.  `make check` lints the pages with mandoc when it is installed.

ZM_MAN_PAGES = \
	man/pam_zonemfa.8 \
	man/zonemfa.conf.5 \
	man/zonemfa-tokend.8 \
	man/zonemfa-enroll.8 \
	man/zonemfa-revoke.8 \
	man/zonemfa-audit.8
dist_man_MANS += $(ZM_MAN_PAGES)

# Examples for administrators; not installed (they need local decisions:
# zone, paths, which PAM services), but shipped in the tarball.
EXTRA_DIST += \
	contrib/zonemfa-tokend.service \
	contrib/zonemfa-tokend.socket \
	contrib/zonemfa.conf.example \
	contrib/pam.d/zonemfa-mynumber \
	contrib/pam.d/zonemfa-lgwan \
	contrib/pam.d/zonemfa-internet

# Any mandoc message at warning level or above fails the check, so the
# pages stay lint-clean; machines without mandoc skip it rather than fail
# (mandoc is not needed to build or install).
check-local: check-man
check-man:
	@if command -v mandoc >/dev/null 2>&1; then \
		out=`cd '$(srcdir)' && mandoc -Tlint -W warning $(ZM_MAN_PAGES) 2>&1` || :; \
		if test -n "$$out"; then \
			echo "$$out" >&2; \
			echo "check-man: mandoc -Tlint -W warning reported problems" >&2; \
			exit 1; \
		fi; \
		echo "check-man: man pages are mandoc -Tlint clean"; \
	else \
		echo "check-man: mandoc not installed, man page lint skipped"; \
	fi
.PHONY: check-man
