# bench/: load generators; scripts/bench runs them and prints the table.
noinst_PROGRAMS += bench/zm-bench-populate bench/zm-bench-login bench/zm-bench-fido
# The registry's commits of a login, checkpoint thread vs autocheckpoint.
noinst_PROGRAMS += bench/zm-bench-store
bench_zm_bench_store_SOURCES = bench/zm-bench-store.c bench/bench_util.h
bench_zm_bench_store_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
bench_zm_bench_store_LDADD = tokend/libzmtokend.la $(SQLITE_LIBS)
# One login per process (zm-bench-login -X): libpam and libc only.
noinst_PROGRAMS += bench/zm-bench-once
bench_zm_bench_once_SOURCES = bench/zm-bench-once.c
bench_zm_bench_once_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
bench_zm_bench_once_LDADD = $(PAM_LIBS)
bench_zm_bench_populate_SOURCES = bench/zm-bench-populate.c bench/bench_util.h
bench_zm_bench_populate_LDADD = tokend/libzmtokend.la
bench_zm_bench_login_SOURCES = bench/zm-bench-login.c bench/bench_util.h
bench_zm_bench_login_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS) $(OATH_CFLAGS) $(CRYPTO_CFLAGS)
bench_zm_bench_login_LDADD = $(PAM_LIBS) $(OATH_LIBS) $(CRYPTO_LIBS)

# ES256 verifications/s and a libfido2 round trip to tests/fido_sw.
bench_zm_bench_fido_SOURCES = bench/zm-bench-fido.c
bench_zm_bench_fido_CFLAGS = $(AM_CFLAGS) -pthread
bench_zm_bench_fido_LDADD = tokend/libzmtokend.la -lpthread

# IC card figures (script; scripts/bench --card runs it).
EXTRA_DIST += bench/zm-bench-card
# Floods by unprivileged uids vs victims' logins (scripts/bench --flood).
EXTRA_DIST += bench/zm-bench-flood bench/zm-bench-end

bench: all
	$(SHELL) $(top_srcdir)/scripts/bench --builddir '$(abs_top_builddir)'
.PHONY: bench

# Crash consistency (tests/crash_trials.sh): kill -9 of the daemon at random
# amid enrolments, revocations, failing logins and open sessions; root only.
CRASH_TRIALS = 1000
bench-crash: all $(check_PROGRAMS)
	$(SHELL) $(top_srcdir)/scripts/bench --builddir '$(abs_top_builddir)' --crash $(CRASH_TRIALS)
.PHONY: bench-crash
