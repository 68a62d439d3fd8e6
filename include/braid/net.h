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

/* Parses "1.2.3.4:80", "[::1]:80" or "[fe80::1%eth0]:80" (numeric hosts
 * only; names go through braid_dns_lookup).  BRAID_EINVAL for malformed
 * text (no port, IPv6 without brackets, a bad host), BRAID_ERANGE for a port
 * above 65535.  Any thread. */
BRAID_API int braid_addr_parse(struct sockaddr_storage *out, size_t *out_len, const char *text);
/* Writes the text form of `addr` (the form braid_addr_parse reads; Unix
 * addresses as their path, "@name" when abstract, "(unnamed)") into buf.
 * Returns its length (NUL not counted), BRAID_ERANGE when `cap` is too small,
 * BRAID_EINVAL for an unknown family.  Any thread. */
BRAID_API int braid_addr_format(char *buf, size_t cap, const struct sockaddr *addr, size_t addr_len);

BRAID_EXTERN_C_END

#endif /* BRAID_NET_H */
