# ZM_CHECK_CFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# Probe whether the C compiler accepts FLAG (with -Werror so that a flag
# that is merely warned about counts as unsupported).
AC_DEFUN([ZM_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([zm_var], [zm_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [zm_var], [
    zm_save_CFLAGS="$CFLAGS"
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [return 0;])],
      [AS_VAR_SET([zm_var], [yes])], [AS_VAR_SET([zm_var], [no])])
    CFLAGS="$zm_save_CFLAGS"])
  AS_VAR_IF([zm_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([zm_var])
])

# ZM_CHECK_LDFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
AC_DEFUN([ZM_CHECK_LDFLAG], [
  AS_VAR_PUSHDEF([zm_var], [zm_cv_ldflag_$1])
  AC_CACHE_CHECK([whether the linker accepts $1], [zm_var], [
    zm_save_LDFLAGS="$LDFLAGS"
    LDFLAGS="$LDFLAGS -Werror $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [return 0;])],
      [AS_VAR_SET([zm_var], [yes])], [AS_VAR_SET([zm_var], [no])])
    LDFLAGS="$zm_save_LDFLAGS"])
  AS_VAR_IF([zm_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([zm_var])
])
