# tests/integration.mk - integration tests (bash, TAP): the real libpam
# through pam_wrapper, pam_matrix as the password module, the real
# pam_zonemfa.so and a real zonemfa-tokend on a temporary directory.
# tests/lib.sh builds the sandbox; see the comments there.
IT_TESTS = \
	tests/it_login.sh \
	tests/it_lockout.sh \
	tests/it_perm.sh \
	tests/it_revoke.sh \
	tests/it_session_bind.sh \
	tests/it_password_fail.sh \
	tests/it_daemon.sh \
	tests/it_i18n.sh \
	tests/it_limits.sh \
	tests/it_zone_access.sh \
	tests/it_dormant.sh \
	tests/it_tempcode.sh \
	tests/it_sod.sh \
	tests/it_temppw.sh \
	tests/it_auditlog.sh \
	tests/it_report.sh \
	tests/it_concurrency.sh \
	tests/it_hardening.sh \
	tests/it_flood.sh \
	tests/it_sshd.sh \
	tests/it_systemd.sh \
	tests/it_package.sh \
	tests/it_crash.sh \
	tests/it_module_deps.sh \
	tests/it_shared_id.sh \
	tests/it_import.sh
TESTS += $(IT_TESTS)
check_SCRIPTS += $(IT_TESTS)
EXTRA_DIST += $(IT_TESTS) tests/lib.sh tests/ipc_raw.py tests/flood.py \
	scripts/deps.sh tests/ssh_login.exp tests/su_cmd.exp tests/vlock.exp \
	tests/nspawn.sh
# The crash trials: it_crash.sh runs a few, scripts/bench --crash many.
EXTRA_DIST += tests/crash_trials.sh tests/crash_check.py tests/crash_kill.py
# it_i18n.sh looks for the installed Japanese catalog here.
AM_TESTS_ENVIRONMENT += ZM_LOCALEDIR='$(localedir)'; export ZM_LOCALEDIR;
# it_systemd.sh caches its container root and /usr build here,
# it_package.sh its .debs and root under _nspawn/pkg.
distclean-local: distclean-local-nspawn
distclean-local-nspawn:
	rm -rf _nspawn
# lib.sh's per-file test counts (what a whole-file skip reports).
clean-local: clean-local-counts
clean-local-counts:
	rm -rf tests/.counts
