/*
 * zm-pcsc-wait - wait until a reader of the (private) pcscd named by
 * PCSCLITE_CSOCK_NAME has a card (present) or none (absent).  The tests
 * use it instead of sleeping: pcscd notices an insertion or a removal
 * 190-480 ms after the virtual card connects or leaves.  Connecting also
 * starts a socket-activated pcscd.
 *
 * usage: zm-pcsc-wait present|absent|readers [TIMEOUT_MS]
 * Exit 0 when the state is reached, 1 on timeout, 2 on error.
 *
 *        zm-pcsc-wait apdu HEX...
 * sends each APDU (hex) to the card in the first reader that has one, in
 * one connection, and prints each response (data || SW, hex) on a line:
 * the tests send the card malformed commands with it.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
unhex(const char *h, BYTE *out, size_t max, size_t *n)
{
	unsigned	v;
	size_t		i, len = strlen(h);

	if (len % 2 != 0 || len / 2 > max)
		return -1;
	for (i = 0; i < len / 2; i++) {
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

static int
send_apdus(SCARDCONTEXT ctx, const char *names, int argc, char **argv)
{
	SCARDHANDLE	 h;
	DWORD		 proto, rl;
	const char	*p;
	BYTE		 cmd[300], resp[300];
	size_t		 n;
	LONG		 rv = SCARD_E_NO_SMARTCARD;
	int		 i;
	DWORD		 j;

	for (p = names; *p != '\0'; p += strlen(p) + 1)
		if ((rv = SCardConnect(ctx, p, SCARD_SHARE_SHARED,
		    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h, &proto)) ==
		    SCARD_S_SUCCESS)
			break;
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "zm-pcsc-wait: %s\n", pcsc_stringify_error(rv));
		return 2;
	}
	for (i = 0; i < argc; i++) {
		if (unhex(argv[i], cmd, sizeof(cmd), &n) != 0) {
			fprintf(stderr, "zm-pcsc-wait: bad hex %s\n", argv[i]);
			return 2;
		}
		rl = sizeof(resp);
		if ((rv = SCardTransmit(h, proto == SCARD_PROTOCOL_T1 ?
		    SCARD_PCI_T1 : SCARD_PCI_T0, cmd, (DWORD)n, NULL, resp,
		    &rl)) != SCARD_S_SUCCESS) {
			fprintf(stderr, "zm-pcsc-wait: %s\n",
			    pcsc_stringify_error(rv));
			return 2;
		}
		for (j = 0; j < rl; j++)
			printf("%02X", resp[j]);
		printf("\n");
	}
	(void)SCardDisconnect(h, SCARD_RESET_CARD);
	return fflush(stdout) == 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
	SCARDCONTEXT		 ctx = 0;
	SCARD_READERSTATE	 rs[8];
	char			*names = NULL, *p;
	DWORD			 len = SCARD_AUTOALLOCATE, i, n;
	LONG			 rv;
	long			 deadline, left;
	int			 want_present, any = 0;

	if (argc < 2 || (argc > 3 && strcmp(argv[1], "apdu") != 0))
		return 2;
	want_present = strcmp(argv[1], "absent") != 0;
	deadline = mono_ms() + (argc == 3 && strcmp(argv[1], "apdu") != 0 ?
	    strtol(argv[2], NULL, 10) : 5000);
	for (;;) {
		if (ctx == 0 && SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL,
		    NULL, &ctx) != SCARD_S_SUCCESS)
			ctx = 0;
		len = SCARD_AUTOALLOCATE;
		if (ctx != 0 && SCardListReaders(ctx, NULL, (LPSTR)&names,
		    &len) == SCARD_S_SUCCESS)
			break;
		if (mono_ms() > deadline)
			return 1;
		{
			struct timespec ts = { 0, 20 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (strcmp(argv[1], "apdu") == 0) {
		i = send_apdus(ctx, names, argc - 2, argv + 2);
		SCardFreeMemory(ctx, names);
		SCardReleaseContext(ctx);
		return (int)i;
	}
	if (strcmp(argv[1], "readers") == 0) {
		for (p = names; *p != '\0'; p += strlen(p) + 1)
			printf("%s\n", p);
		/* Freed: LeakSanitizer would otherwise fail the sanitizer run. */
		SCardFreeMemory(ctx, names);
		SCardReleaseContext(ctx);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	memset(rs, 0, sizeof(rs));
	for (n = 0, p = names; *p != '\0' && n < 8; p += strlen(p) + 1, n++) {
		rs[n].szReader = p;
		rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	for (;;) {
		left = deadline - mono_ms();
		if (left < 0)
			left = 0;
		rv = SCardGetStatusChange(ctx, (DWORD)left, rs, n);
		if (rv == SCARD_E_TIMEOUT)
			break;
		if (rv != SCARD_S_SUCCESS) {
			fprintf(stderr, "zm-pcsc-wait: %s\n",
			    pcsc_stringify_error(rv));
			return 2;
		}
		any = 0;
		for (i = 0; i < n; i++) {
			rs[i].dwCurrentState = rs[i].dwEventState;
			if (rs[i].dwEventState & SCARD_STATE_PRESENT)
				any = 1;
		}
		if (any == want_present || left == 0)
			break;
	}
	SCardFreeMemory(ctx, names);
	SCardReleaseContext(ctx);
	return rv == SCARD_S_SUCCESS && any == want_present ? 0 : 1;
}
