/* Small pure parsers for config values. Each returns 0 on success, -1 on
 * a malformed value (no errno, no message: the caller words the error). */
#ifndef MLS_PARSE_H
#define MLS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "250ms" "5s" "2m" "1h" "1h30m" "1d"; a bare 0 is accepted. Result in ms. */
int parse_duration(const char *s, int64_t *ms);
/* "512" "64KiB" "256MiB" "1GiB" "1TiB", "10KB" "5MB" "1GB" (powers of 10),
 * "K/M/G" alone are binary (like docker). Result in bytes. */
int parse_size(const char *s, int64_t *bytes);
/* "10%" -> 10; 0..100 */
int parse_percent(const char *s, int *pct);
/* "TERM" "SIGTERM" "15" -> 15 */
int parse_signal(const char *s, int *sig);
const char *signal_name(int sig); /* "TERM"; NULL if unknown */
/* "host:port", "[v6]:port", ":port"; port 1-65535. host is copied without
 * the brackets ("::1"); it may be NULL (then hostsz is ignored) to only
 * check the value. */
int parse_hostport(const char *s, char *host, size_t hostsz, int *port);
/* http:// or https:// URL with a host; port optional (80/443 then).
 * host as for parse_hostport; is_https and port may be NULL. */
int parse_url(const char *s, int *is_https, char *host, size_t hostsz, int *port);
/* A strict integer in [min, max] */
int parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* A decimal number (for factor, cpu) > 0 */
int parse_number(const char *s, double *out);
/* Is host a loopback address or "localhost"? */
int host_is_loopback(const char *host);
/* Levenshtein distance, capped (returns cap+1 when larger, and for
 * strings longer than 255 bytes) */
int edit_distance(const char *a, const char *b, int cap);

#endif
