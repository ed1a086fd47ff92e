#!/usr/bin/env bash
# mls httpd over TLS (docs/api.md, "TLS"), against the real binary and
# real clients (curl, openssl): tls: auto makes a self-signed certificate
# once (key.pem 0600), logs its SHA-256 fingerprint (= openssl's) and its
# public key pin (curl --pinnedpubkey), keeps it across a restart of mls,
# refuses a broken cert.pem without overwriting it; tls: {cert, key} with
# an EC and an RSA certificate made by openssl; TLS 1.2 only (a TLS 1.3
# client is refused); a key that does not match is a clear error; the API
# over TLS (status, restart, SSE events, the Secure session cookie). A
# subset runs again on the ASan build ($MLS_DEV).
# Needs: MLS, TESTS_DIR, python3, curl, openssl.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"
command -v curl >/dev/null 2>&1 || skip_all "needs curl"
command -v openssl >/dev/null 2>&1 || skip_all "needs openssl"
export T

BG=
bg_cleanup() {
	for p in $BG; do kill -KILL "$p" 2>/dev/null; done
	sv_cleanup
}
trap bg_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
running_new() { local p; p=$(pid_of "$1"); [ "$(state_of "$1")" = running ] && [ -n "$p" ] && [ "$p" != null ] && [ "$p" != "$2" ]; }

ADMIN=admin-token-0123456789abcdef
AA=(-H "Authorization: Bearer $ADMIN")
PORT=$(free_port)
SD=$T/sd
LD=$T/logs
HLOG=$LD/mls-httpd.1.log
CFG=$T/mls.yaml
# write_cfg TLS_VALUE
write_cfg() {
	cat >"$CFG" <<EOF
state_dir: $SD
log_dir: $LD
http:
  listen: ["127.0.0.1:$PORT"]
  token: "$ADMIN"
  tls: $1
services:
  web:
    command: ["sleep", "1000"]
EOF
}
# tls_up CACERT: /healthz over https with that CA answers 200
tls_up() { curl -s --max-time 5 --cacert "$1" -o /dev/null -w '%{http_code}' "https://localhost:$PORT/healthz" 2>/dev/null | grep -qx 200; }
hc() {
	HS=$(curl -s -o "$T/hb" -D "$T/hh" -w '%{http_code}' --max-time 60 "$@" 2>"$T/hc.err")
	HB=$(cat "$T/hb" 2>/dev/null)
	HH=$(tr -d '\r' <"$T/hh" 2>/dev/null)
}
jbody() { json_check "$HB" "$1"; }
last_fp() { sed -n 's/.*certificate SHA-256 fingerprint \([0-9A-F:]*\)$/\1/p' "$HLOG" | tail -1; }
last_pin() { sed -n 's/.*public key pin \(sha256\/\/[A-Za-z0-9+\/=]*\) (curl --pinnedpubkey)$/\1/p' "$HLOG" | tail -1; }
nfp() { grep -c 'certificate SHA-256 fingerprint' "$HLOG" 2>/dev/null; }

# api_over_tls LABEL CACERT: status, a restart, SSE events, over https
api_over_tls() {
	local L=$1 CA=$2 U=https://localhost:$PORT
	hc --cacert "$CA" "${AA[@]}" "$U/api/v1/status"
	is "$HS" 200 "$L: GET /api/v1/status over TLS: 200"
	jbody 'd["ok"] and "web" in [s["name"] for s in d["services"]]' && ok 0 "$L: ... lists web" || ok 1 "$L: ... lists web ($HB)"
	hc --cacert "$CA" "$U/api/v1/status"
	is "$HS" 401 "$L: ... without the token: 401"
	curl -s -N --cacert "$CA" "${AA[@]}" "$U/api/v1/events" >"$T/ev.$L" 2>/dev/null &
	local EVP=$!
	BG="$BG $EVP"
	wait_for "$L: SSE events over TLS: hello" 10 has "$T/ev.$L" '^event: hello'
	local P0
	P0=$(pid_of web.1)
	hc --cacert "$CA" "${AA[@]}" -X POST "$U/api/v1/services/web/restart"
	is "$HS" 200 "$L: POST restart over TLS: 200"
	local P1
	P1=$(pid_of web.1)
	jbody "d['instances'][0]['pid'] == $P1 and $P1 != $P0" && ok 0 "$L: ... the new pid ($P1)" || ok 1 "$L: ... the new pid ($HB, ctl $P1, was $P0)"
	wait_for "$L: ... the stream shows web.1 stopping then running" 10 \
		sh -c "grep -q '\"name\":\"web.1\".*\"state\":\"stopping\"' '$T/ev.$L' && grep -q '\"name\":\"web.1\".*\"state\":\"running\",\"pid\":$P1' '$T/ev.$L'"
	kill "$EVP" 2>/dev/null
	like "$(grep -c '^id: ' "$T/ev.$L")" '^[2-9]|[1-9][0-9]+$' "$L: ... each with an id:"
	# the session cookie under TLS: __Host- prefixed and Secure
	hc --cacert "$CA" -X POST -d "{\"token\":\"$ADMIN\"}" "$U/api/v1/login"
	like "$(grep -i '^set-cookie' <<<"$HH")" '__Host-mls_session=.*HttpOnly; SameSite=Strict; Secure' "$L: login over TLS: a __Host- cookie, Secure"
	local CK
	CK=$(sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-mls_session=[^;]*\);.*/\1/p' <<<"$HH")
	hc --cacert "$CA" -X POST -H "Cookie: $CK" -H "Origin: http://localhost:$PORT" "$U/api/v1/services/web/restart?wait=0"
	is "$HS" 403 "$L: ... a POST with an http:// Origin: 403"
	hc --cacert "$CA" -X POST -H "Cookie: $CK" -H "Origin: https://localhost:$PORT" "$U/api/v1/services/web/restart?wait=0"
	is "$HS" 200 "$L: ... with the https:// Origin: 200"
}

# ================================================================ tls: auto
write_cfg auto
sv_start "$CFG"
wait_for "tls: auto: mls-httpd.1 runs" 15 state_is mls-httpd.1 running
wait_for "... its log has the certificate's fingerprint" 15 has "$HLOG" 'certificate SHA-256 fingerprint'
wait_for "... and the pin" 10 has "$HLOG" 'public key pin sha256//'
like "$(cat "$HLOG")" "made a self-signed certificate in $SD/tls" "... it says it made a certificate in STATE_DIR/tls"
FP=$(last_fp)
PIN=$(last_pin)
like "$FP" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' "... the fingerprint: 32 hex pairs ($FP)"
like "$PIN" '^sha256//[A-Za-z0-9+/]{43}=$' "... the pin: sha256// and 44 base64 characters ($PIN)"
CERT=$SD/tls/cert.pem
KEY=$SD/tls/key.pem
is "$(stat -c %a "$KEY")" 600 "key.pem is 0600"
wait_for "curl --cacert STATE_DIR/tls/cert.pem https://localhost:PORT/healthz works" 15 tls_up "$CERT"
hc --cacert "$CERT" "https://localhost:$PORT/healthz"
is "$HS $HB" "200 ok" "... 200 ok"
is "$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 | sed 's/.*=//')" "$FP" "openssl's SHA-256 fingerprint of cert.pem is the logged one"
like "$(openssl x509 -in "$CERT" -noout -text)" 'DNS:localhost' "... its SAN has localhost"
like "$(openssl x509 -in "$CERT" -noout -text)" 'IP Address:127\.0\.0\.1' "... and the listen address"
like "$(openssl x509 -in "$CERT" -noout -text)" 'ASN1 OID: prime256v1|NIST CURVE: P-256' "... an ECDSA P-256 key"
hc -k --pinnedpubkey "$PIN" "https://127.0.0.1:$PORT/healthz"
is "$HS" 200 "curl -k --pinnedpubkey with the logged pin: 200"
BADPIN="sha256//$(printf 'not the key' | openssl dgst -sha256 -binary | base64)"
hc -k --pinnedpubkey "$BADPIN" "https://127.0.0.1:$PORT/healthz"
is "$HS" 000 "... with a wrong pin: refused by curl"
like "$(cat "$T/hc.err"; curl -sk --pinnedpubkey "$BADPIN" "https://127.0.0.1:$PORT/healthz" 2>&1; echo "rc=$?")" 'rc=90' "... curl exits 90 (SSL public key does not match pinned)"
hc "https://localhost:$PORT/healthz"
is "$HS" 000 "without --cacert or a pin: curl refuses the self-signed certificate"

# TLS 1.2 only
hc --cacert "$CERT" --tls-max 1.2 "https://localhost:$PORT/healthz"
is "$HS" 200 "curl --tls-max 1.2: 200"
hc --cacert "$CERT" --tlsv1.3 "https://localhost:$PORT/healthz"
is "$HS" 000 "curl --tlsv1.3 (TLS 1.3 only): refused"
run openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -brief
like "$OUT$ERR" 'Protocol version: TLSv1\.2' "openssl s_client -tls1_2: TLSv1.2"
like "$OUT$ERR" 'Ciphersuite: ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' "... an ECDHE-ECDSA AEAD suite"

api_over_tls auto "$CERT"

# a restart of mls keeps the certificate
N0=$(nfp)
sv_stop
is "$SV_RC" 0 "mls stops"
sv_start "$CFG"
wait_for "mls again: httpd logs its fingerprint again" 15 sh -c "[ \$(grep -c 'certificate SHA-256 fingerprint' '$HLOG') -gt $N0 ]"
is "$(last_fp)" "$FP" "... the same fingerprint (not regenerated)"
is "$(last_pin)" "$PIN" "... the same pin"
unlike "$(tail -n 5 "$HLOG")" 'made a self-signed certificate' "... and it does not say it made one"
wait_for "... curl --cacert the same cert.pem works" 15 tls_up "$CERT"
sv_stop

# a broken cert.pem: a clear error, the file kept as it is
cp "$CERT" "$T/cert.good"
printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' >"$CERT"
cp "$CERT" "$T/cert.broken"
sv_start "$CFG"
wait_for "a broken cert.pem: httpd fails with a log line naming it" 15 has "$HLOG" "mls httpd: .*$CERT"
diag "$(grep "$CERT" "$HLOG" | tail -1)"
wait_for "... mls-httpd.1 does not run (backoff)" 10 sh -c "'$MLS' ctl -s '$SV_SOCK' --json status | grep -q '\"name\":\"mls-httpd\",\"instance\":1,\"state\":\"\\(backoff\\|failed\\|starting\\)\"'"
cmp -s "$CERT" "$T/cert.broken"
ok $? "... cert.pem is not overwritten"
is "$(state_of web.1)" running "... the services run"
sv_stop
cp "$T/cert.good" "$CERT"

# ====================================================== tls: {cert, key}
mk() { # mk NAME openssl-newkey-args...
	local n=$1
	shift
	openssl req -x509 "$@" -nodes -keyout "$T/$n.key" -out "$T/$n.crt" -days 2 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
}
mk ec -newkey ec -pkeyopt ec_paramgen_curve:P-256
ok $? "openssl req -x509: an EC P-256 certificate"
mk rsa -newkey rsa:2048
ok $? "openssl req -x509: an RSA 2048 certificate"

write_cfg "{cert: $T/ec.crt, key: $T/ec.key}"
sv_start "$CFG"
wait_for "tls: {cert, key} EC: curl --cacert works" 20 tls_up "$T/ec.crt"
is "$(last_fp)" "$(openssl x509 -in "$T/ec.crt" -noout -fingerprint -sha256 | sed 's/.*=//')" "... the logged fingerprint is the file's"
hc --cacert "$T/ec.crt" --tls-max 1.2 "https://localhost:$PORT/healthz"
is "$HS" 200 "... --tls-max 1.2: 200"
hc --cacert "$T/ec.crt" --tlsv1.3 "https://localhost:$PORT/healthz"
is "$HS" 000 "... --tlsv1.3: refused"
hc --cacert "$CERT" "https://localhost:$PORT/healthz"
is "$HS" 000 "... the auto certificate is not served any more"

HP=$(pid_of mls-httpd.1)
write_cfg "{cert: $T/rsa.crt, key: $T/rsa.key}"
ctl reload
wait_for "tls: {cert, key} RSA (a reload): httpd restarted" 20 running_new mls-httpd.1 "$HP"
wait_for "... curl --cacert works" 20 tls_up "$T/rsa.crt"
hc --cacert "$T/rsa.crt" --tls-max 1.2 "https://localhost:$PORT/healthz"
is "$HS" 200 "... --tls-max 1.2: 200"
hc --cacert "$T/rsa.crt" --tlsv1.3 "https://localhost:$PORT/healthz"
is "$HS" 000 "... --tlsv1.3: refused"
run openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -brief
like "$OUT$ERR" 'Ciphersuite: ECDHE-RSA-' "... an ECDHE-RSA suite"

api_over_tls rsa "$T/rsa.crt"

# a key that does not match its certificate
HP=$(pid_of mls-httpd.1)
write_cfg "{cert: $T/ec.crt, key: $T/rsa.key}"
ctl reload
wait_for "a key that does not match: a clear error in the log" 20 has "$HLOG" "mls httpd: .*($T/rsa\\.key|$T/ec\\.crt).*(does not match|mismatch)"
diag "$(grep 'mls httpd: .*rsa\.key' "$HLOG" | tail -1)"
hc --cacert "$T/ec.crt" "https://localhost:$PORT/healthz"
is "$HS" 000 "... nothing is served"
write_cfg "{cert: $T/ec.crt, key: $T/ec.key}"
ctl reload
wait_for "... fixed by a reload: served again" 30 tls_up "$T/ec.crt"

# Keep-alive over TLS under load: every connection goes on being served.
# A request that came in with the last records of the previous answer
# used to sit unparsed in the connection's buffer, and the connection
# stalled for good after a few seconds of wrk (httpd idle, no error).
# The 5 s and 2 s below are a measurement window, not a wait.
if command -v wrk >/dev/null 2>&1; then
	HP=$(pid_of mls-httpd.1)
	ticks() { awk '{ print $14 + $15 }' "/proc/$HP/stat"; }
	wrk -t1 -c8 -d9s -H "Authorization: Bearer $ADMIN" "https://127.0.0.1:$PORT/api/v1/status" >"$T/wrk.out" 2>&1 &
	WP=$!
	sleep 5
	a=$(ticks)
	sleep 2
	b=$(ticks)
	wait "$WP"
	ok $((b - a > 0 ? 0 : 1)) "TLS keep-alive under load: httpd still serving after 5 s of wrk (CPU ticks $a -> $b)"
	like "$(cat "$T/wrk.out")" "Requests/sec" "... wrk ran"
	diag "$(grep -E 'requests in|Requests/sec' "$T/wrk.out" | tr -s ' ' | tr '\n' ';')"
else
	skip "wrk is not installed: TLS keep-alive under load"
fi
sv_stop
is "$SV_RC" 0 "mls exits 0"

# =============================================== the ASan build, tls: auto
if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ]; then
	REL=$MLS
	MLS=$MLS_DEV
	write_cfg auto
	sv_start "$CFG"
	wait_for "dev: tls: auto (the same certificate): curl --cacert works" 30 tls_up "$CERT"
	is "$(last_fp)" "$FP" "dev: ... the same fingerprint"
	api_over_tls dev "$CERT"
	sv_stop
	is "$SV_RC" 0 "dev: mls exits 0"
	ERR=$(cat "$SV_ERR" "$LD"/*.log 2>/dev/null)
	no_sanitizer_report "dev: supervise and mls-httpd over TLS"
	MLS=$REL
else
	skip "MLS_DEV (the ASan/UBSan build) is not set or not built"
fi

done_testing
