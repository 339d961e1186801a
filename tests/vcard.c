/*
 * vcard - a virtual IC card for the test suite, speaking the vpcd protocol
 * to a private pcscd (tests/pcscd.sh).  The card is the TCP client of the
 * vpcd reader driver: big-endian uint16 length, then payload; a 1-byte
 * payload is control (00 off, 01 on, 02 reset, 04 ATR), anything longer a
 * C-APDU answered with data || SW1 SW2.
 *
 * Profiles (real keys, generated into the state file on first use):
 *   piv   SELECT A0 00 00 03 08, GET DATA 5FC102 (CHUID) / 5FC105 (9A
 *         certificate), VERIFY 80 (retry counter, blocked after 3),
 *         GENERAL AUTHENTICATE 87 11|07 9A with 7C{82,81}: ECC P-256 or
 *         RSA-2048 (--alg rsa; command chaining CLA 10 for its 256-byte
 *         challenge)
 *   jpki  user-authentication AP D3 92 F0 00 26 01 00 00 00 01: EF 000A
 *         certificate (READ BINARY), EF 0018 PIN (4 digits, 3 tries), EF
 *         0017 key, COMPUTE DIGITAL SIGNATURE 80 2A 00 80 over a DigestInfo
 *         (RSA-2048 PKCS#1 v1.5)
 *   felica, mifare  ID-only cards as a contactless reader shows them (PC/SC
 *         Part 3 storage-card ATR 3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN
 *         NN 00 00 00 00 TCK): they answer only GET DATA UID (FF CA 00 00
 *         00) with their IDm / UID; no application, no key
 *   none  an ISO card with no PIV or JPKI application (SELECT: 6A 82)
 * Responses longer than 256 bytes are chained with 61 xx / GET RESPONSE.
 * --extended (PIV) takes extended-length APDUs and says so in its ATR
 * (card capabilities, ISO 7816-4 8.1.1.2.7); without it Lc 00 is 67 00.
 * --atr HEX replaces the answer to reset (say, an ID-only card behind an
 * ordinary ATR, to see that its UID is never asked for nor accepted).
 * The card certificate is self-signed, or with --issuer CA issued by a
 * test CA whose certificate (PEM, for card_ca) is CA and key CA.key, made
 * on first use; --expired makes it one that expired yesterday.
 *
 * SIGUSR1 removes the card (closes the socket), SIGUSR2 inserts it again;
 * SIGTERM ends.  --log FILE appends one "> APDU" and one "< RESPONSE" line
 * per exchange (tests count APDUs per login) and "# us N", the card's own
 * processing time (the bench subtracts it).  --hostile MODE answers the
 * signing command (and the certificate reads) badly:
 *   wrong-signature  a valid signature over other data
 *   truncated        half the response, the TLV lengths say more
 *   bad-sw           the data followed by 6F 00
 *   oversized        a response far over any sane size
 *   refuse-sign      the signing command answered 6A 80 (well formed)
 *
 * The card is strict, as real cards are: every C-APDU is parsed by ISO
 * 7816-4 (short APDUs; Lc and Le must match the bytes: 67 00), every
 * BER-TLV length must be exactly that of its contents (6A 80), P1-P2 must
 * be the command's (6A 86), a class it does not know is 6E 00, chaining
 * (CLA 10) is for GENERAL AUTHENTICATE only (68 84) and must not be broken
 * (68 83), a key operation before VERIFY is 69 82, a wrong PIN 63 Cx, a
 * blocked one 69 83.  Each rule is in the function of its command.
 *
 * usage: vcard --port PORT --state FILE
 *              [--profile piv|jpki|felica|mifare|none] [--alg ec|rsa]
 *              [--pin PIN] [--log FILE] [--pidfile FILE] [--hostile MODE]
 *              [--removed] [--atr HEX] [--issuer CA] [--expired]
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define MAXMSG		4096
#define CHUNK		256
#define PIN_TRIES	3

enum hostile { H_NONE, H_WRONGSIG, H_TRUNC, H_BADSW, H_OVERSIZE, H_REFUSE };
enum app { APP_NONE, APP_PIV, APP_JPKI };

static const uint8_t piv_aid[] = { 0xa0, 0x00, 0x00, 0x03, 0x08 };
static const uint8_t jpki_aid[] = { 0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01,
    0x00, 0x00, 0x00, 0x01 };
/* Answers to reset: a PIV-like one and one with the JPKI historical bytes. */
static const uint8_t atr_piv[] = { 0x3b, 0x88, 0x80, 0x01, 'Z', 'M', 'P',
    'I', 'V', 0x00, 0x00, 0x01, 0x7e };
static const uint8_t atr_jpki[] = { 0x3b, 0xe0, 0x00, 0xff, 0x81, 0x31,
    0xfe, 0x45, 0x14 };
/* PC/SC Part 3 storage cards: SS 11 / NN 00 3B FeliCa, SS 03 / 00 01 MIFARE
 * Classic 1K; the last byte (TCK) is computed in card_atr(). */
static const uint8_t atr_felica[] = { 0x3b, 0x8f, 0x80, 0x01, 0x80, 0x4f,
    0x0c, 0xa0, 0x00, 0x00, 0x03, 0x06, 0x11, 0x00, 0x3b, 0x00, 0x00, 0x00,
    0x00, 0x00 };
static const uint8_t atr_mifare[] = { 0x3b, 0x8f, 0x80, 0x01, 0x80, 0x4f,
    0x0c, 0xa0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00 };
/* PIV with extended Lc/Le: historical bytes 80 (compact-TLV), card
 * capabilities 73 00 00 C0 (chaining, extended Lc and Le), issuer data 55
 * "ZMPIV"; TCK computed in card_atr(). */
static const uint8_t atr_piv_ext[] = { 0x3b, 0x8b, 0x80, 0x01, 0x80, 0x73,
    0x00, 0x00, 0xc0, 0x55, 'Z', 'M', 'P', 'I', 'V', 0x00 };
static const uint8_t atr_none[] = { 0x3b, 0x88, 0x80, 0x01, 'Z', 'M', 'N',
    'O', 'N', 'E', 0x00, 0x00, 0x7f };

enum kind { K_APP, K_FELICA, K_MIFARE, K_NONE };

struct card {
	int		 jpki;
	enum kind	 kind;		/* K_APP: piv or jpki */
	int		 rsa;
	uint8_t		 atr[36];
	size_t		 atrlen;
	char		 state[4096];
	char		 pin[16];
	unsigned	 tries;
	uint8_t		 guid[16];
	EVP_PKEY	*key;
	uint8_t		*cert;
	int		 certlen;
	/* volatile state (lost at power off / reset) */
	enum app	 app;
	unsigned	 ef;
	int		 verified;
	uint8_t		 chain[MAXMSG];		/* command chaining (CLA 10) */
	size_t		 chainlen;
	uint8_t		 chain_p1, chain_p2;
	uint8_t		 pend[MAXMSG * 2];	/* response chaining */
	size_t		 pendlen, pendoff;
	enum hostile	 hostile;
	FILE		*log;
	const char	*issuer;	/* test CA (PEM path), or self-signed */
	int		 expired;
	int		 ext;		/* --extended: extended Lc/Le (ATR says so) */
};

static volatile sig_atomic_t sig_remove, sig_insert, sig_term;
static int pipefd[2] = { -1, -1 };

static void
on_signal(int s)
{
	int e = errno;

	if (s == SIGUSR1)
		sig_remove = 1;
	else if (s == SIGUSR2)
		sig_insert = 1;
	else
		sig_term = 1;
	(void)!write(pipefd[1], "x", 1);
	errno = e;
}

static void
die(const char *what)
{
	fprintf(stderr, "vcard: %s\n", what);
	exit(1);
}

static void
hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02X", p[i]);
}

/* ---- state ---- */

static const char *
kind_name(const struct card *c)
{
	switch (c->kind) {
	case K_FELICA:	return "felica";
	case K_MIFARE:	return "mifare";
	case K_NONE:	return "none";
	default:	return c->jpki ? "jpki" : "piv";
	}
}

static void
set_kind(struct card *c, const char *profile)
{
	c->jpki = strcmp(profile, "jpki") == 0;
	if (strcmp(profile, "felica") == 0)
		c->kind = K_FELICA;
	else if (strcmp(profile, "mifare") == 0)
		c->kind = K_MIFARE;
	else if (strcmp(profile, "none") == 0)
		c->kind = K_NONE;
	else if (c->jpki || strcmp(profile, "piv") == 0)
		c->kind = K_APP;
	else
		die("unknown profile");
}

static void
state_save(const struct card *c)
{
	char	tmp[4200];
	FILE	*f;
	int	i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", c->state);
	if ((f = fopen(tmp, "w")) == NULL)
		die("cannot write the state file");
	fprintf(f, "profile %s\nalg %s\npin %s\ntries %u\nguid ",
	    kind_name(c), c->rsa ? "rsa" : "ec", c->pin, c->tries);
	for (i = 0; i < 16; i++)
		fprintf(f, "%02x", c->guid[i]);
	fprintf(f, "\n");
	if (fclose(f) != 0 || rename(tmp, c->state) != 0)
		die("cannot write the state file");
}

static int
state_load(struct card *c)
{
	char	line[256], prof[16], alg[16], g[64];
	FILE	*f;
	int	i;
	unsigned v;

	if ((f = fopen(c->state, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "profile %15s", prof) == 1)
			set_kind(c, prof);
		else if (sscanf(line, "alg %15s", alg) == 1)
			c->rsa = strcmp(alg, "rsa") == 0;
		else if (sscanf(line, "pin %15s", c->pin) == 1)
			;
		else if (sscanf(line, "tries %u", &c->tries) == 1)
			;
		else if (sscanf(line, "guid %63s", g) == 1 && strlen(g) == 32) {
			for (i = 0; i < 16; i++) {
				if (sscanf(g + 2 * i, "%2x", &v) != 1)
					die("bad guid in state");
				c->guid[i] = (uint8_t)v;
			}
		}
	}
	fclose(f);
	return 0;
}

/* The test CA at path (certificate) and path.key, made if absent. */
static void
load_ca(const char *path, X509 **cert, EVP_PKEY **key)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	X509_NAME	*n;
	const char	*base;
	char		 kpath[4200], tmp[4300], cn[60];
	uint8_t		 rnd[2];
	FILE		*f;

	snprintf(kpath, sizeof(kpath), "%s.key", path);
	if ((f = fopen(path, "r")) != NULL) {
		*cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		if (*cert == NULL || (f = fopen(kpath, "r")) == NULL)
			die("cannot read the CA");
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (*key == NULL)
			die("cannot read the CA key");
		return;
	}
	if ((*key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (*cert = X509_new()) == NULL)
		die("CA generation");
	X509_set_version(*cert, 2);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		die("RAND_bytes");
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(*cert),
	    (uint64_t)rnd[0] << 16 | (uint64_t)rnd[1] << 8 | 1);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -86400L * 365 * 3);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 86400L * 3650);
	X509_set_pubkey(*cert, *key);
	n = X509_get_subject_name(*cert);
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	snprintf(cn, sizeof(cn), "zonemfa test CA %s", base);
	if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const uint8_t *)cn, -1, -1, 0) != 1)
		die("CA name");
	X509_set_issuer_name(*cert, n);
	X509V3_set_ctx(&v3, *cert, *cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE")) == NULL || X509_add_ext(*cert, ext, -1) != 1)
		die("CA extension");
	X509_EXTENSION_free(ext);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
	    "critical,keyCertSign,cRLSign")) == NULL ||
	    X509_add_ext(*cert, ext, -1) != 1)
		die("CA extension");
	X509_EXTENSION_free(ext);
	if (X509_sign(*cert, *key, EVP_sha256()) == 0)
		die("X509_sign (CA)");
	snprintf(tmp, sizeof(tmp), "%s.tmp", kpath);
	if ((f = fopen(tmp, "w")) == NULL || PEM_write_PrivateKey(f, *key,
	    NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0 ||
	    rename(tmp, kpath) != 0)
		die("cannot write the CA key");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL || PEM_write_X509(f, *cert) != 1 ||
	    fclose(f) != 0 || rename(tmp, path) != 0)
		die("cannot write the CA certificate");
}

static void
make_cert(struct card *c)
{
	X509		*x, *ca = NULL;
	X509_NAME	*n;
	EVP_PKEY	*cakey = NULL;
	char		 cn[80];
	uint8_t		*p = NULL;
	int		 i;

	if ((x = X509_new()) == NULL)
		die("X509_new");
	X509_set_version(x, 2);
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x),
	    ((uint64_t)c->guid[0] << 24 | (uint64_t)c->guid[1] << 16 |
	    (uint64_t)c->guid[2] << 8 | c->guid[3]) + 1);
	if (c->expired) {
		X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 365 * 2);
		X509_gmtime_adj(X509_getm_notAfter(x), -86400);
	} else {
		X509_gmtime_adj(X509_getm_notBefore(x), -86400);
		X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
	}
	X509_set_pubkey(x, c->key);
	n = X509_get_subject_name(x);
	i = snprintf(cn, sizeof(cn), "zonemfa test %s card %02x%02x%02x%02x",
	    c->jpki ? "JPKI" : "PIV", c->guid[0], c->guid[1], c->guid[2],
	    c->guid[3]);
	if (i < 0 || (size_t)i >= sizeof(cn))
		die("cn");
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (uint8_t *)cn, -1,
	    -1, 0);
	if (c->issuer != NULL) {
		load_ca(c->issuer, &ca, &cakey);
		X509_set_issuer_name(x, X509_get_subject_name(ca));
	} else
		X509_set_issuer_name(x, n);
	if (X509_sign(x, cakey != NULL ? cakey : c->key, EVP_sha256()) == 0)
		die("X509_sign");
	X509_free(ca);
	EVP_PKEY_free(cakey);
	if ((c->certlen = i2d_X509(x, &p)) <= 0)
		die("i2d_X509");
	c->cert = p;
	X509_free(x);
}

static void
card_init(struct card *c, const char *profile, const char *alg,
    const char *pin)
{
	char	 kpath[4200];
	FILE	*f;

	snprintf(kpath, sizeof(kpath), "%s.key", c->state);
	if (state_load(c) != 0) {
		set_kind(c, profile != NULL ? profile : "piv");
		c->rsa = c->jpki || (alg != NULL && strcmp(alg, "rsa") == 0);
		snprintf(c->pin, sizeof(c->pin), "%s",
		    pin != NULL ? pin : c->jpki ? "1234" : "123456");
		c->tries = PIN_TRIES;
		if (RAND_bytes(c->guid, sizeof(c->guid)) != 1)
			die("RAND_bytes");
		c->key = c->rsa ?
		    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
		    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (c->key == NULL)
			die("key generation");
		if ((f = fopen(kpath, "w")) == NULL ||
		    PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL,
		    NULL) != 1 || fclose(f) != 0)
			die("cannot write the key");
		state_save(c);
	} else {
		if ((f = fopen(kpath, "r")) == NULL ||
		    (c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
			die("cannot read the key");
		fclose(f);
	}
	make_cert(c);
}

/* The answer to reset: the profile's, or --atr HEX. */
static void
card_atr(struct card *c, const char *hexatr)
{
	const uint8_t	*a;
	size_t		 n, i;
	unsigned	 v;

	if (hexatr != NULL) {
		n = strlen(hexatr);
		if (n < 4 || n % 2 != 0 || n / 2 > sizeof(c->atr))
			die("bad --atr");
		for (i = 0; i < n / 2; i++) {
			if (sscanf(hexatr + 2 * i, "%2x", &v) != 1)
				die("bad --atr");
			c->atr[i] = (uint8_t)v;
		}
		c->atrlen = n / 2;
		return;
	}
	switch (c->kind) {
	case K_FELICA:	a = atr_felica; n = sizeof(atr_felica); break;
	case K_MIFARE:	a = atr_mifare; n = sizeof(atr_mifare); break;
	case K_NONE:	a = atr_none; n = sizeof(atr_none); break;
	default:
		a = c->jpki ? atr_jpki : c->ext ? atr_piv_ext : atr_piv;
		n = c->jpki ? sizeof(atr_jpki) : c->ext ? sizeof(atr_piv_ext) :
		    sizeof(atr_piv);
		break;
	}
	memcpy(c->atr, a, n);
	c->atrlen = n;
	if (c->kind != K_APP || (c->ext && !c->jpki)) {
		/* TCK: the XOR of T0 .. the last historical byte. */
		c->atr[n - 1] = 0;
		for (i = 1; i < n - 1; i++)
			c->atr[n - 1] ^= c->atr[i];
	}
}

/* ---- responses ---- */

struct rsp {
	uint8_t	b[MAXMSG * 2];
	size_t	n;
};

static void
put(struct rsp *r, const void *p, size_t n)
{
	if (r->n + n > sizeof(r->b))
		die("response overflow");
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void
put_sw(struct rsp *r, unsigned sw)
{
	uint8_t s[2] = { (uint8_t)(sw >> 8), (uint8_t)sw };

	put(r, s, 2);
}

/* BER-TLV length. */
static void
put_len(struct rsp *r, size_t n)
{
	uint8_t l[3];

	if (n < 0x80) {
		l[0] = (uint8_t)n;
		put(r, l, 1);
	} else if (n < 0x100) {
		l[0] = 0x81;
		l[1] = (uint8_t)n;
		put(r, l, 2);
	} else {
		l[0] = 0x82;
		l[1] = (uint8_t)(n >> 8);
		l[2] = (uint8_t)n;
		put(r, l, 3);
	}
}

static void
put_tlv(struct rsp *r, uint8_t tag, const void *p, size_t n)
{
	put(r, &tag, 1);
	put_len(r, n);
	put(r, p, n);
}

/*
 * One C-APDU, parsed strictly (ISO 7816-4 5.1).  Extended length only
 * with --extended (ext); otherwise Lc 00 is refused with 67 00.
 * has_le: an Le field came; ne: the bytes it allows (00 = 256).
 */
struct cmd {
	uint8_t		 cla, ins, p1, p2;
	const uint8_t	*d;
	size_t		 lc;
	int		 has_le;
	size_t		 ne;
};

static int
parse_cmd(const uint8_t *a, size_t n, struct cmd *k, int ext)
{
	memset(k, 0, sizeof(*k));
	if (n < 4)
		return -1;
	k->cla = a[0];
	k->ins = a[1];
	k->p1 = a[2];
	k->p2 = a[3];
	if (n == 4)				/* case 1 */
		return 0;
	if (n == 5) {				/* case 2 */
		k->has_le = 1;
		k->ne = a[4] == 0 ? 256 : a[4];
		return 0;
	}
	if (a[4] == 0 && !ext)			/* extended: not offered */
		return -1;
	if (a[4] == 0) {			/* extended (--extended) */
		if (n == 7) {			/* case 2E */
			k->has_le = 1;
			k->ne = (size_t)a[5] << 8 | a[6];
			k->ne = k->ne == 0 ? 65536 : k->ne;
			return 0;
		}
		if (n < 8)
			return -1;
		k->lc = (size_t)a[5] << 8 | a[6];
		k->d = a + 7;
		if (k->lc == 0)
			return -1;
		if (n == 7 + k->lc)		/* case 3E */
			return 0;
		if (n == 9 + k->lc) {		/* case 4E */
			k->has_le = 1;
			k->ne = (size_t)a[7 + k->lc] << 8 | a[8 + k->lc];
			k->ne = k->ne == 0 ? 65536 : k->ne;
			return 0;
		}
		return -1;
	}
	k->lc = a[4];
	k->d = a + 5;
	if (n == 5 + k->lc)			/* case 3 */
		return 0;
	if (n == 6 + k->lc) {			/* case 4 */
		k->has_le = 1;
		k->ne = a[5 + k->lc] == 0 ? 256 : a[5 + k->lc];
		return 0;
	}
	return -1;
}

/*
 * Response data for k.  No Le: the data waits for GET RESPONSE (61 xx,
 * as a T=0 card answers a case 3 command).  Le shorter than the data
 * (when not 256): 6C xx, the exact length.  Over 256 bytes: the first
 * 256, 61 xx, the rest by GET RESPONSE.
 */
static void
respond_data(struct card *c, struct rsp *r, const struct cmd *k,
    const uint8_t *d, size_t n)
{
	size_t left, first;

	if (c->hostile == H_TRUNC && n > 8)
		n /= 2;
	if (n > sizeof(c->pend))
		die("response too large");
	if (k->has_le && k->ne < 256 && k->ne < n && n <= CHUNK) {
		put_sw(r, 0x6c00 | (unsigned)n);
		return;
	}
	first = k->has_le ? (n < k->ne ? n : k->ne) : 0;
	if (first == n) {
		put(r, d, n);
		put_sw(r, c->hostile == H_BADSW ? 0x6f00 : 0x9000);
		return;
	}
	memcpy(c->pend, d, n);
	c->pendlen = n;
	c->pendoff = first;
	put(r, d, first);
	left = n - first;
	put_sw(r, 0x6100 | (left >= CHUNK ? 0 : (unsigned)left));
}

/* GET RESPONSE (ISO 7816-4 7.6.1): 00 C0 00 00 Le, case 2 only. */
static void
get_response(struct card *c, struct rsp *r, const struct cmd *k)
{
	size_t n = c->pendlen - c->pendoff, left;

	if (k->cla != 0x00) {
		put_sw(r, 0x6e00);
		return;
	}
	if (k->p1 != 0 || k->p2 != 0) {
		put_sw(r, 0x6a86);
		return;
	}
	if (k->lc != 0 || !k->has_le) {
		put_sw(r, 0x6700);
		return;
	}
	if (c->pendlen == 0) {
		put_sw(r, 0x6985);
		return;
	}
	if (n > k->ne)
		n = k->ne;
	put(r, c->pend + c->pendoff, n);
	c->pendoff += n;
	left = c->pendlen - c->pendoff;
	if (left == 0) {
		c->pendlen = c->pendoff = 0;
		put_sw(r, c->hostile == H_BADSW ? 0x6f00 : 0x9000);
	} else
		put_sw(r, 0x6100 | (left >= CHUNK ? 0 : (unsigned)left));
}

/*
 * VERIFY (ISO 7816-4 7.5.6, SP 800-73-4 part 2 3.2.1): case 1 queries the
 * counter, case 3 verifies.  PIV: 8 bytes, 6 to 8 digits padded with FF;
 * JPKI: the 4 digits as they are.  A PIN of the wrong format is 6A 80 and
 * costs no try.
 */
static void
verify(struct card *c, const struct cmd *k, struct rsp *r)
{
	char	pin[16];
	size_t	i, len;

	if (k->p1 != 0x00 || (k->p2 != 0x80 && !c->jpki)) {
		put_sw(r, k->p1 != 0x00 ? 0x6a86 : 0x6a88);
		return;
	}
	if (k->p2 != 0x80) {
		put_sw(r, 0x6a86);
		return;
	}
	if (k->has_le || (k->lc != 0 && k->lc != (c->jpki ? 4u : 8u))) {
		put_sw(r, 0x6700);
		return;
	}
	if (c->tries == 0) {
		put_sw(r, 0x6983);
		return;
	}
	if (k->lc == 0) {
		put_sw(r, c->verified ? 0x9000 : 0x63c0 | c->tries);
		return;
	}
	len = k->lc;
	if (!c->jpki) {
		for (len = 0; len < k->lc && k->d[len] != 0xff; len++)
			;
		for (i = len; i < k->lc; i++)
			if (k->d[i] != 0xff) {	/* FF only at the end */
				put_sw(r, 0x6a80);
				return;
			}
		if (len < 6) {
			put_sw(r, 0x6a80);
			return;
		}
	}
	for (i = 0; i < len; i++) {
		if (k->d[i] < '0' || k->d[i] > '9') {
			put_sw(r, 0x6a80);
			return;
		}
		pin[i] = (char)k->d[i];
	}
	pin[len] = '\0';
	if (strcmp(pin, c->pin) == 0) {
		c->tries = PIN_TRIES;
		c->verified = 1;
		state_save(c);
		put_sw(r, 0x9000);
		return;
	}
	c->verified = 0;
	c->tries--;
	state_save(c);
	put_sw(r, c->tries == 0 ? 0x6983 : 0x63c0 | c->tries);
}

/* The private-key operation; hostile modes spoil it. */
static int
sign(struct card *c, const uint8_t *in, size_t inlen, uint8_t *sig,
    size_t *siglen)
{
	EVP_PKEY_CTX	*ctx;
	uint8_t		 tbs[512];
	int		 ok;

	if (inlen > sizeof(tbs) || inlen == 0)
		return -1;
	memcpy(tbs, in, inlen);
	if (c->hostile == H_WRONGSIG)
		tbs[inlen - 1] ^= 0x01;
	if ((ctx = EVP_PKEY_CTX_new(c->key, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_sign_init(ctx) == 1 &&
	    (!c->rsa || EVP_PKEY_CTX_set_rsa_padding(ctx, c->jpki ?
	    RSA_PKCS1_PADDING : RSA_NO_PADDING) == 1) &&
	    EVP_PKEY_sign(ctx, sig, siglen, tbs, inlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static void
oversized(struct card *c, struct rsp *r, const struct cmd *k)
{
	static uint8_t big[MAXMSG];

	memset(big, 0x5a, sizeof(big));
	big[0] = 0x7c;
	big[1] = 0x82;
	big[2] = 0xff;
	big[3] = 0xff;
	c->hostile = H_NONE;	/* the chaining of it is honest */
	respond_data(c, r, k, big, sizeof(big));
	c->hostile = H_OVERSIZE;
}

/* ---- BER-TLV (ISO 7816-4 5.2), strictly ---- */

/*
 * Length: 00-7F, 81 XX or 82 XX XX (80, the indefinite form, and 83 up
 * are refused); the value must fit in what is left.
 */
static int
ber_len(const uint8_t *p, size_t n, size_t *i, size_t *len)
{
	if (*i >= n)
		return -1;
	if (p[*i] < 0x80) {
		*len = p[(*i)++];
	} else if (p[*i] == 0x81) {
		if (*i + 2 > n)
			return -1;
		*len = p[*i + 1];
		*i += 2;
	} else if (p[*i] == 0x82) {
		if (*i + 3 > n)
			return -1;
		*len = (size_t)p[*i + 1] << 8 | p[*i + 2];
		*i += 3;
	} else
		return -1;
	return *len <= n - *i ? 0 : -1;
}

/* One TLV with a one-byte tag at p[*i]: its value, and *i past it. */
static int
tlv1(const uint8_t *p, size_t n, size_t *i, uint8_t *tag,
    const uint8_t **v, size_t *len)
{
	if (*i >= n)
		return -1;
	*tag = p[(*i)++];
	if ((*tag & 0x1f) == 0x1f)	/* multi-byte tags: none expected */
		return -1;
	if (ber_len(p, n, i, len) != 0)
		return -1;
	*v = p + *i;
	*i += *len;
	return 0;
}

/* ---- PIV ---- */

/* GET DATA (SP 800-73-4 part 2 3.1.2): 00 CB 3F FF Lc 5C 03 5F C1 xx Le. */
static void
piv_get_data(struct card *c, const struct cmd *k, struct rsp *r)
{
	struct rsp	 in, out;
	const uint8_t	*v;
	size_t		 i = 0, vlen;
	uint8_t		 tag, z = 0;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (k->cla != 0x00) {
		put_sw(r, 0x6e00);
		return;
	}
	if (k->p1 != 0x3f || k->p2 != 0xff) {
		put_sw(r, 0x6a86);
		return;
	}
	if (k->lc == 0) {
		put_sw(r, 0x6700);
		return;
	}
	/* Exactly one 5C TLV filling the data, a 3-byte 5F C1 xx tag. */
	if (tlv1(k->d, k->lc, &i, &tag, &v, &vlen) != 0 || i != k->lc ||
	    tag != 0x5c || vlen != 3 || v[0] != 0x5f || v[1] != 0xc1) {
		put_sw(r, 0x6a80);
		return;
	}
	if (v[2] == 0x02) {
		put_tlv(&in, 0x34, c->guid, 16);
		put_tlv(&in, 0x35, "20351231", 8);
		put_tlv(&in, 0x3e, &z, 0);
		put_tlv(&in, 0xfe, &z, 0);
	} else if (v[2] == 0x05) {
		put_tlv(&in, 0x70, c->cert, (size_t)c->certlen);
		put_tlv(&in, 0x71, &z, 1);
		put_tlv(&in, 0xfe, &z, 0);
	} else {
		put_sw(r, 0x6a82);
		return;
	}
	put_tlv(&out, 0x53, in.b, in.n);
	respond_data(c, r, k, out.b, out.n);
}

/*
 * GENERAL AUTHENTICATE (SP 800-73-4 part 2 3.2.4): the whole data is one
 * 7C template whose length is exactly what follows it; inside, each of
 * 80/81/82/85 at most once, each length exact.  This card signs only:
 * { 82 00, 81 challenge } with a challenge of the key's size.  Answers
 * 7C L { 82 L signature }.
 */
static void
piv_general_auth(struct card *c, const struct cmd *k, const uint8_t *d,
    size_t n, struct rsp *r)
{
	struct rsp	 in, out;
	const uint8_t	*t, *v, *chal = NULL;
	uint8_t		 sig[512], tag;
	size_t		 siglen = sizeof(sig), i = 0, j = 0, tlen, vlen;
	size_t		 clen = 0;
	unsigned	 seen = 0, bit;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (k->p2 != 0x9a || k->p1 != (c->rsa ? 0x07 : 0x11)) {
		put_sw(r, 0x6a86);
		return;
	}
	if (n == 0) {
		put_sw(r, 0x6700);
		return;
	}
	if (tlv1(d, n, &i, &tag, &t, &tlen) != 0 || tag != 0x7c || i != n)
		goto bad;
	while (j < tlen) {
		if (tlv1(t, tlen, &j, &tag, &v, &vlen) != 0)
			goto bad;
		switch (tag) {
		case 0x80: bit = 1; break;
		case 0x81: bit = 2; break;
		case 0x82: bit = 4; break;
		case 0x85: bit = 8; break;
		default: goto bad;
		}
		if (seen & bit)
			goto bad;
		seen |= bit;
		if (tag == 0x82 && vlen != 0)
			goto bad;
		if (tag == 0x81) {
			chal = v;
			clen = vlen;
		}
	}
	/* A signature: exactly a response request and a challenge. */
	if (seen != (2 | 4) || clen != (c->rsa ? 256u : 32u))
		goto bad;
	if (!c->verified) {
		put_sw(r, 0x6982);
		return;
	}
	if (c->hostile == H_REFUSE)
		goto bad;
	/* RSA: the block must be below the modulus (else 6A 80 too). */
	if (sign(c, chal, clen, sig, &siglen) != 0)
		goto bad;
	if (c->hostile == H_OVERSIZE) {
		oversized(c, r, k);
		return;
	}
	put_tlv(&in, 0x82, sig, siglen);
	put_tlv(&out, 0x7c, in.b, in.n);
	respond_data(c, r, k, out.b, out.n);
	return;
 bad:
	put_sw(r, 0x6a80);
}

/* ---- JPKI ---- */

/* READ BINARY (ISO 7816-4 7.2.3): case 2, 15-bit offset in P1-P2. */
static void
jpki_read_binary(struct card *c, const struct cmd *k, struct rsp *r)
{
	size_t off = (size_t)k->p1 << 8 | k->p2, n;

	if (k->cla != 0x00) {
		put_sw(r, 0x6e00);
		return;
	}
	if (k->p1 & 0x80) {		/* short EF identifier: none here */
		put_sw(r, 0x6a86);
		return;
	}
	if (k->lc != 0 || !k->has_le) {
		put_sw(r, 0x6700);
		return;
	}
	if (c->ef != 0x000a) {
		put_sw(r, 0x6986);
		return;
	}
	if (off >= (size_t)c->certlen) {
		put_sw(r, 0x6b00);
		return;
	}
	n = (size_t)c->certlen - off;
	if (c->hostile == H_TRUNC && n > 4 && off == 0)
		n = 4;
	if (n >= k->ne) {
		put(r, c->cert + off, k->ne);
		put_sw(r, 0x9000);
		return;
	}
	/* Fewer bytes than asked: end of file reached before Le. */
	put(r, c->cert + off, n);
	put_sw(r, k->ne == 256 ? 0x9000 : 0x6282);
}

/*
 * COMPUTE DIGITAL SIGNATURE 80 2A 00 80 with EF 0017 selected: the data
 * is a DigestInfo, one DER SEQUENCE filling it exactly, at most k - 11 =
 * 245 bytes (PKCS#1 v1.5).
 */
static void
jpki_sign(struct card *c, const struct cmd *k, struct rsp *r)
{
	uint8_t	sig[512];
	size_t	siglen = sizeof(sig), i = 1, len;

	if (k->p1 != 0x00 || k->p2 != 0x80) {
		put_sw(r, 0x6a86);
		return;
	}
	if (k->lc == 0 || k->lc > 245) {
		put_sw(r, 0x6700);
		return;
	}
	if (k->d[0] != 0x30 || ber_len(k->d, k->lc, &i, &len) != 0 ||
	    i + len != k->lc) {
		put_sw(r, 0x6a80);
		return;
	}
	if (c->ef != 0x0017) {
		put_sw(r, 0x6986);
		return;
	}
	if (!c->verified) {
		put_sw(r, 0x6982);
		return;
	}
	if (c->hostile == H_REFUSE || sign(c, k->d, k->lc, sig,
	    &siglen) != 0) {
		put_sw(r, 0x6a80);
		return;
	}
	if (c->hostile == H_OVERSIZE) {
		oversized(c, r, k);
		return;
	}
	if (c->hostile == H_TRUNC)
		siglen /= 2;
	if (c->hostile == H_BADSW) {
		put(r, sig, siglen);
		put_sw(r, 0x6f00);
		return;
	}
	respond_data(c, r, k, sig, siglen);
}

/* ---- dispatch ---- */

/* SELECT by AID (P1 04): PIV P2 00 (SP 800-73-4), JPKI P2 0C. */
static void
select_app(struct card *c, const struct cmd *k, struct rsp *r)
{
	/* The full PIV AID; a right-truncated one selects too (>= RID). */
	static const uint8_t piv_full[] = { 0xa0, 0x00, 0x00, 0x03, 0x08,
	    0x00, 0x00, 0x10, 0x00, 0x01, 0x00 };
	static const uint8_t apt[] = { 0x61, 0x11, 0x4f, 0x06,
	    0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x79, 0x07,
	    0x4f, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08 };

	c->app = APP_NONE;
	c->ef = 0;
	c->verified = 0;
	if (k->cla != 0x00) {
		put_sw(r, 0x6e00);
		return;
	}
	if (k->lc == 0) {
		put_sw(r, 0x6700);
		return;
	}
	if (!c->jpki && k->lc >= sizeof(piv_aid) && k->lc <= sizeof(piv_full) &&
	    memcmp(k->d, piv_full, k->lc) == 0) {
		if (k->p2 != 0x00) {
			put_sw(r, 0x6a86);
			return;
		}
		c->app = APP_PIV;
		respond_data(c, r, k, apt, sizeof(apt));
		return;
	}
	if (c->jpki && k->lc == sizeof(jpki_aid) &&
	    memcmp(k->d, jpki_aid, sizeof(jpki_aid)) == 0) {
		if (k->p2 != 0x0c) {
			put_sw(r, 0x6a86);
			return;
		}
		c->app = APP_JPKI;
		put_sw(r, 0x9000);
		return;
	}
	put_sw(r, 0x6a82);
}

/*
 * GENERAL AUTHENTICATE with command chaining (ISO 7816-4 5.1.1.1): every
 * part but the last has CLA 10 and no Le, all have the same INS P1 P2.
 * A chain broken by another command is dropped: 68 83.
 */
static void
piv_auth_chain(struct card *c, const struct cmd *k, struct rsp *r)
{
	size_t total;

	if (k->p2 != 0x9a || k->p1 != (c->rsa ? 0x07 : 0x11)) {
		c->chainlen = 0;
		put_sw(r, 0x6a86);
		return;
	}
	if (k->lc == 0) {
		c->chainlen = 0;
		put_sw(r, 0x6700);
		return;
	}
	if (c->chainlen > 0 && (k->p1 != c->chain_p1 ||
	    k->p2 != c->chain_p2)) {
		c->chainlen = 0;
		put_sw(r, 0x6883);
		return;
	}
	if (c->chainlen + k->lc > sizeof(c->chain)) {
		c->chainlen = 0;
		put_sw(r, 0x6700);
		return;
	}
	if (k->cla == 0x10) {
		if (k->has_le) {
			c->chainlen = 0;
			put_sw(r, 0x6700);
			return;
		}
		memcpy(c->chain + c->chainlen, k->d, k->lc);
		c->chainlen += k->lc;
		c->chain_p1 = k->p1;
		c->chain_p2 = k->p2;
		put_sw(r, 0x9000);
		return;
	}
	if (c->chainlen == 0) {
		piv_general_auth(c, k, k->d, k->lc, r);
		return;
	}
	memcpy(c->chain + c->chainlen, k->d, k->lc);
	total = c->chainlen + k->lc;
	c->chainlen = 0;
	piv_general_auth(c, k, c->chain, total, r);
}

static void
apdu(struct card *c, const uint8_t *a, size_t n, struct rsp *r)
{
	struct cmd k;

	if (parse_cmd(a, n, &k, c->ext) != 0) {
		c->chainlen = 0;
		put_sw(r, 0x6700);
		return;
	}
	if (k.ins != 0xc0)
		c->pendlen = c->pendoff = 0;
	if (c->kind != K_APP) {
		/* PC/SC Part 3 GET DATA: the UID (IDm), the card's only data. */
		if ((c->kind == K_FELICA || c->kind == K_MIFARE) &&
		    k.cla == 0xff && k.ins == 0xca && k.p1 == 0x00 &&
		    k.p2 == 0x00 && k.lc == 0) {
			put(r, c->guid, c->kind == K_FELICA ? 8 : 4);
			put_sw(r, 0x9000);
		} else if (k.ins == 0xa4)
			put_sw(r, 0x6a82);
		else
			put_sw(r, c->kind == K_NONE ? 0x6d00 : 0x6a81);
		return;
	}
	/* Classes: 00, 10 (chaining, GENERAL AUTHENTICATE only), 80 (JPKI). */
	if (k.cla != 0x00 && k.cla != 0x10 && k.cla != 0x80) {
		c->chainlen = 0;
		put_sw(r, 0x6e00);
		return;
	}
	if (k.cla == 0x10 && (k.ins != 0x87 || c->app != APP_PIV)) {
		c->chainlen = 0;
		put_sw(r, 0x6884);
		return;
	}
	/* A chain under way takes only its next part. */
	if (c->chainlen > 0 && k.ins != 0x87) {
		c->chainlen = 0;
		put_sw(r, 0x6883);
		return;
	}
	if (k.ins == 0xa4 && k.p1 == 0x04) {
		select_app(c, &k, r);
		return;
	}
	if (k.ins == 0xc0) {
		get_response(c, r, &k);
		return;
	}
	if (c->app == APP_PIV) {
		if (k.cla == 0x80) {
			put_sw(r, 0x6e00);
			return;
		}
		switch (k.ins) {
		case 0x87:
			piv_auth_chain(c, &k, r);
			break;
		case 0xcb:
			piv_get_data(c, &k, r);
			break;
		case 0x20:
			verify(c, &k, r);
			break;
		case 0xa4:
			put_sw(r, 0x6a86);	/* PIV selects by AID only */
			break;
		default:
			put_sw(r, 0x6d00);
			break;
		}
		return;
	}
	if (c->app == APP_JPKI) {
		if (k.ins == 0x2a) {
			if (k.cla != 0x80)
				put_sw(r, 0x6e00);
			else
				jpki_sign(c, &k, r);
			return;
		}
		if (k.cla != 0x00) {
			put_sw(r, 0x6e00);
			return;
		}
		if (k.ins == 0xa4) {
			/* SELECT EF by id (P1 02), no answer wanted (P2 0C). */
			unsigned ef;

			if (k.p1 != 0x02 || k.p2 != 0x0c) {
				put_sw(r, 0x6a86);
				return;
			}
			if (k.lc != 2 || k.has_le) {
				put_sw(r, 0x6700);
				return;
			}
			ef = (unsigned)k.d[0] << 8 | k.d[1];
			if (ef != 0x000a && ef != 0x0017 && ef != 0x0018) {
				put_sw(r, 0x6a82);
				return;
			}
			c->ef = ef;
			put_sw(r, 0x9000);
		} else if (k.ins == 0xb0)
			jpki_read_binary(c, &k, r);
		else if (k.ins == 0x20) {
			if (c->ef != 0x0018)
				put_sw(r, 0x6986);
			else
				verify(c, &k, r);
		} else
			put_sw(r, 0x6d00);
		return;
	}
	put_sw(r, 0x6985);
}


/* ---- vpcd transport ---- */

static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
write_msg(int fd, const uint8_t *p, size_t n)
{
	uint8_t	 buf[2 + MAXMSG * 2];
	size_t	 off = 0;
	ssize_t	 k;

	if (n > MAXMSG * 2)
		return -1;
	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	memcpy(buf + 2, p, n);
	n += 2;
	while (off < n) {
		k = write(fd, buf + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

static void
quickack(int fd)
{
	int one = 1;

	/* vpcd writes header and body apart: without it ~44 ms per APDU. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* One message from vpcd; -1 when the reader went away. */
static int
serve_one(struct card *c, int fd)
{
	uint8_t		hdr[2], msg[MAXMSG];
	struct rsp	*r;
	struct timespec	t0, t1;
	size_t		n;
	int		rc = 0;

	if (read_full(fd, hdr, 2) != 0)
		return -1;
	quickack(fd);
	n = (size_t)hdr[0] << 8 | hdr[1];
	if (n == 0 || n > sizeof(msg) || read_full(fd, msg, n) != 0)
		return -1;
	quickack(fd);
	if (n == 1) {
		switch (msg[0]) {
		case 0x00:	/* power off */
		case 0x01:	/* power on */
		case 0x02:	/* reset */
			c->app = APP_NONE;
			c->ef = 0;
			c->verified = 0;
			c->chainlen = c->pendlen = c->pendoff = 0;
			return 0;
		case 0x04:
			return write_msg(fd, c->atr, c->atrlen);
		default:
			return 0;
		}
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		die("out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	apdu(c, msg, n, r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (c->log != NULL) {
		fputs("> ", c->log);
		hex(c->log, msg, n);
		fputs("\n< ", c->log);
		hex(c->log, r->b, r->n);
		/* The card's own work (bench/zm-bench-card subtracts it). */
		fprintf(c->log, "\n# us %ld\n", (long)((t1.tv_sec -
		    t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
		fflush(c->log);
	}
	rc = write_msg(fd, r->b, r->n);
	free(r);
	return rc;
}

static int
vpcd_connect(int port)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	quickack(fd);
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 's' },
		{ "profile", required_argument, NULL, 'P' },
		{ "alg", required_argument, NULL, 'a' },
		{ "pin", required_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'l' },
		{ "pidfile", required_argument, NULL, 'i' },
		{ "hostile", required_argument, NULL, 'H' },
		{ "removed", no_argument, NULL, 'r' },
		{ "atr", required_argument, NULL, 'A' },
		{ "issuer", required_argument, NULL, 'I' },
		{ "expired", no_argument, NULL, 'E' },
		{ "extended", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 }
	};
	static struct card c;
	const char	*profile = NULL, *alg = NULL, *pin = NULL;
	const char	*pidfile = NULL, *atr = NULL;
	struct sigaction sa;
	struct pollfd	 pfd[2];
	char		 drain[64];
	long		 port = 0;
	int		 ch, fd = -1, inserted = 1;
	FILE		*f;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = strtol(optarg, NULL, 0);
			break;
		case 's':
			snprintf(c.state, sizeof(c.state), "%s", optarg);
			break;
		case 'P':
			profile = optarg;
			break;
		case 'a':
			alg = optarg;
			break;
		case 'n':
			pin = optarg;
			break;
		case 'l':
			if ((c.log = fopen(optarg, "a")) == NULL)
				die("cannot open the log");
			break;
		case 'i':
			pidfile = optarg;
			break;
		case 'H':
			if (strcmp(optarg, "wrong-signature") == 0)
				c.hostile = H_WRONGSIG;
			else if (strcmp(optarg, "truncated") == 0)
				c.hostile = H_TRUNC;
			else if (strcmp(optarg, "bad-sw") == 0)
				c.hostile = H_BADSW;
			else if (strcmp(optarg, "oversized") == 0)
				c.hostile = H_OVERSIZE;
			else if (strcmp(optarg, "refuse-sign") == 0)
				c.hostile = H_REFUSE;
			else
				die("unknown hostile mode");
			break;
		case 'r':
			inserted = 0;
			break;
		case 'A':
			atr = optarg;
			break;
		case 'I':
			c.issuer = optarg;
			break;
		case 'E':
			c.expired = 1;
			break;
		case 'X':
			c.ext = 1;
			break;
		default:
			die("usage: vcard --port PORT --state FILE [...]");
		}
	}
	if (port <= 0 || port > 65535 || c.state[0] == '\0')
		die("usage: vcard --port PORT --state FILE [...]");
	card_init(&c, profile, alg, pin);
	card_atr(&c, atr);
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0)
		die("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pidfile != NULL) {
		if ((f = fopen(pidfile, "w")) == NULL)
			die("pidfile");
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	while (!sig_term) {
		if (sig_remove) {
			sig_remove = 0;
			inserted = 0;
			if (fd != -1)
				close(fd);
			fd = -1;
		}
		if (sig_insert) {
			sig_insert = 0;
			inserted = 1;
		}
		if (inserted && fd == -1)
			fd = vpcd_connect((int)port);
		pfd[0].fd = pipefd[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, inserted && fd == -1 ? 50 : -1) < 0 &&
		    errno != EINTR)
			die("poll");
		if (pfd[0].revents & POLLIN)
			while (read(pipefd[0], drain, sizeof(drain)) > 0)
				;
		if (fd != -1 && (pfd[1].revents & (POLLIN | POLLHUP)) &&
		    !sig_remove && serve_one(&c, fd) != 0) {
			/* The reader went away (pcscd restarted): retry. */
			close(fd);
			fd = -1;
		}
	}
	if (fd != -1)
		close(fd);
	EVP_PKEY_free(c.key);
	OPENSSL_free(c.cert);
	return 0;
}
