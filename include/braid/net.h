/* braid — socket addresses.  Part of the stable C ABI.
 *
 * Addresses are the operating system's: `const struct sockaddr *` plus its
 * length in, `struct sockaddr_storage` plus a length out (include
 * <sys/socket.h>, <netinet/in.h>, <sys/un.h> for their bodies).  These
 * helpers turn them into text and back.
 */
#ifndef BRAID_NET_H
#define BRAID_NET_H

#include <stddef.h>

#include "export.h"
#include "error.h"
#include "io.h"

BRAID_EXTERN_C_BEGIN

struct sockaddr;
struct sockaddr_storage;

/* Room for any text braid_addr_format writes, NUL included. */
#define BRAID_ADDRSTRLEN 128

/* Parses "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80" or "[fe80::1%2]:80"
 * (numeric hosts only; names go through braid_dns_lookup).  The port is
 * decimal digits only (leading zeros allowed: "0080" is 80); the IPv6 scope
 * after '%' is decimal digits only, or else the name of an interface.
 * BRAID_EINVAL for malformed text (no port, anything but digits in it, IPv6
 * without brackets, a bad host, an empty or unknown scope, a sign or space
 * in it), BRAID_ERANGE for a well-formed port above 65535 or numeric scope
 * above 4294967295.  Any thread. */
BRAID_API int braid_addr_parse(struct sockaddr_storage *out, size_t *out_len, const char *text);
/* Writes the text form of `addr` (the form braid_addr_parse reads; Unix
 * addresses as their path, "@name" when abstract, "(unnamed)") into buf.
 * Reads at most `addr_len` bytes at `addr`.  Returns its length (NUL not
 * counted), BRAID_ERANGE when `cap` is too small, BRAID_EINVAL for NULL, an
 * unknown family, or an `addr_len` too short for the family (shorter than
 * the family field itself included).  Any thread. */
BRAID_API int braid_addr_format(char *buf, size_t cap, const struct sockaddr *addr, size_t addr_len);

BRAID_EXTERN_C_END

#endif /* BRAID_NET_H */
